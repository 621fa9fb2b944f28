// Package reqhdr makes the per-request headers real clients vary (a request
// id and a bearer token) and checks them where they arrive. The token ends
// with the first 8 characters of the request id, so the upstream can tell a
// pair that travelled together from headers mixed up between requests (the
// bug fixed-header load never showed). It imports only the standard library.
package reqhdr

import (
	"errors"
	"math/rand/v2"
)

// Header names, lower case as HTTP/2 sends them.
const (
	IDName   = "x-request-id"
	AuthName = "authorization"
)

// Sizes: a 32-hex request id; a token of MinToken to MaxToken characters
// after "Bearer ", of which the last PairLen repeat the id's first ones.
const (
	IDLen    = 32
	MinToken = 40
	MaxToken = 60
	PairLen  = 8
	Bearer   = "Bearer "
)

// Alphabet is the token alphabet (base64url).
const Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

const hexDigits = "0123456789abcdef"

// Errors Check returns.
var (
	ErrID   = errors.New("reqhdr: x-request-id is not 32 lower-case hex digits")
	ErrAuth = errors.New("reqhdr: authorization is not Bearer + 40-60 base64url characters")
	ErrPair = errors.New("reqhdr: authorization does not pair with x-request-id (headers mixed up between requests?)")
)

// Gen makes header values from a seeded PCG; it is not safe for concurrent
// use (one per connection).
type Gen struct {
	r   *rand.Rand
	buf [len(Bearer) + MaxToken]byte
}

// NewGen returns a generator seeded with seed and stream.
func NewGen(seed, stream uint64) *Gen {
	return &Gen{r: rand.New(rand.NewPCG(seed, stream))}
}

// Next returns a fresh request id and the authorization value that pairs
// with it. Both are new strings: the caller's HPACK encoder may keep them.
func (g *Gen) Next() (id, auth string) {
	var idb [IDLen]byte
	for i := 0; i < IDLen; i += 16 {
		v := g.r.Uint64()
		for j := range 16 {
			idb[i+j] = hexDigits[v&15]
			v >>= 4
		}
	}
	n := MinToken + g.r.IntN(MaxToken-MinToken+1)
	b := append(g.buf[:0], Bearer...)
	for rest := n - PairLen; rest > 0; {
		v := g.r.Uint64()
		for k := 0; k < 10 && rest > 0; k++ { // 10 x 6 bits per draw
			b = append(b, Alphabet[v&63])
			v >>= 6
			rest--
		}
	}
	b = append(b, idb[:PairLen]...)
	return string(idb[:]), string(b)
}

// Check verifies a request id and authorization value made by Next (or by
// the wrk script): well formed and paired.
func Check(id, auth string) error {
	if len(id) != IDLen {
		return ErrID
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ErrID
		}
	}
	if len(auth) < len(Bearer) || auth[:len(Bearer)] != Bearer {
		return ErrAuth
	}
	tok := auth[len(Bearer):]
	if len(tok) < MinToken || len(tok) > MaxToken {
		return ErrAuth
	}
	for i := 0; i < len(tok); i++ {
		if !inAlphabet(tok[i]) {
			return ErrAuth
		}
	}
	if tok[len(tok)-PairLen:] != id[:PairLen] {
		return ErrPair
	}
	return nil
}

func inAlphabet(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
