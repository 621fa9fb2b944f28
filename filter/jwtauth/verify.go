package jwtauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/straitgw/strait/filter"
)

// Why a token is refused. Their text after "jwtauth: " is the
// error_description of the WWW-Authenticate challenge (RFC 6750 §3).
var (
	ErrMissing        = errors.New("jwtauth: no bearer token")
	ErrMalformed      = errors.New("jwtauth: malformed token")
	ErrAlgorithm      = errors.New("jwtauth: the token's algorithm is not accepted")
	ErrUnknownKey     = errors.New("jwtauth: the token's signing key is unknown")
	ErrSignature      = errors.New("jwtauth: invalid signature")
	ErrNoExpiry       = errors.New("jwtauth: the token has no expiry")
	ErrExpired        = errors.New("jwtauth: the token expired")
	ErrNotYetValid    = errors.New("jwtauth: the token is not valid yet")
	ErrIssuedInFuture = errors.New("jwtauth: the token was issued in the future")
	ErrIssuer         = errors.New("jwtauth: the token's issuer is not accepted here")
	ErrAudience       = errors.New("jwtauth: the token is not for this audience")
	// ErrNoKeys: the issuer's keys have not been fetched yet (503).
	ErrNoKeys = errors.New("jwtauth: the issuer's signing keys are not loaded yet")
)

// maxTries bounds the keys one token is tried with (a token without a
// kid, against a set of several keys).
const maxTries = 4

// verified is what a request gets from a token that passed. One is
// shared by every request carrying the same token (the cache): read only.
type verified struct {
	tok    string // the token, owned: the cache's key
	rule   *rule
	gen    uint64 // of the key set that verified it
	exp    time.Time
	claims map[string]any
	fields []filter.Field // the claims forwarded as metadata
}

// fresh reports whether v still holds at now for the rules in mask.
func (v *verified) fresh(mask uint64, now time.Time) bool {
	ks := v.rule.keys.set.Load()
	return mask&v.rule.bit() != 0 && ks != nil && ks.gen == v.gen && now.Before(v.exp.Add(v.rule.leeway))
}

// verify checks tok against the rules in mask: its issuer picks the
// rule, its kid and alg the key. It keeps nothing of tok: go-jose decodes
// into buffers of its own. On ErrNoKeys and ErrUnknownKey it returns the
// rule whose keys a fetch might bring.
func (f *Filter) verify(tok string, mask uint64, now time.Time) (*verified, *rule, error) {
	t, err := jwt.ParseSigned(tok, algorithms)
	if err != nil {
		return nil, nil, parseError(tok)
	}
	ru, err := f.pick(t, mask)
	if err != nil {
		return nil, nil, err
	}
	ks := ru.keys.set.Load()
	if ks == nil {
		return nil, ru, ErrNoKeys
	}
	h := t.Headers[0]
	cands, known := ks.candidates(h.KeyID, h.Algorithm)
	if !known {
		return nil, ru, ErrUnknownKey
	}
	var payload rawJSON
	if !signedBy(t, cands, &payload) {
		return nil, nil, ErrSignature
	}
	v, err := ru.check(payload, now)
	if err != nil {
		return nil, nil, err
	}
	v.gen = ks.gen
	return v, ru, nil
}

// pick is the rule of mask that t's issuer names, read before the
// signature is checked: a token of another issuer is refused before its
// kid can make a key source fetch. The claims are checked again once
// verified.
func (f *Filter) pick(t *jwt.JSONWebToken, mask uint64) (*rule, error) {
	var c struct {
		Issuer string `json:"iss"`
	}
	if t.UnsafeClaimsWithoutVerification(&c) != nil {
		return nil, ErrMalformed
	}
	for _, ru := range f.rules {
		if mask&ru.bit() != 0 && ru.issuer == c.Issuer {
			return ru, nil
		}
	}
	return nil, ErrIssuer
}

// signedBy verifies t with each candidate key until one holds.
func signedBy(t *jwt.JSONWebToken, cands []key, payload *rawJSON) bool {
	for i, k := range cands {
		if i == maxTries {
			break
		}
		if t.Claims(k.pub, payload) == nil {
			return true
		}
	}
	return false
}

// check validates the verified payload's claims (RFC 7519 §4.1): exp
// required, nbf, iat, iss and aud, with the rule's leeway.
func (ru *rule) check(payload []byte, now time.Time) (*verified, error) {
	var std jwt.Claims
	if json.Unmarshal(payload, &std) != nil {
		return nil, ErrMalformed
	}
	if std.Expiry == nil {
		return nil, ErrNoExpiry
	}
	err := std.ValidateWithLeeway(jwt.Expected{Issuer: ru.issuer, AnyAudience: ru.audiences, Time: now}, ru.leeway)
	if err != nil {
		return nil, claimError(err)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, ErrMalformed
	}
	return &verified{rule: ru, exp: std.Expiry.Time(), claims: claims, fields: ru.fields(claims)}, nil
}

// decodeClaims decodes the payload keeping numbers as written
// (json.Number): a 64-bit id survives, as a float64 would not.
func decodeClaims(payload []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, ErrMalformed
	}
	return m, nil
}

func claimError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrNotValidYet):
		return ErrNotYetValid
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return ErrIssuedInFuture
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return ErrIssuer
	case errors.Is(err, jwt.ErrInvalidAudience):
		return ErrAudience
	}
	return ErrMalformed
}

// parseError tells a token signed with an algorithm not accepted (none,
// HMAC) from one that does not parse.
func parseError(tok string) error {
	head, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(b, &h) != nil || h.Alg == "" {
		return ErrMalformed
	}
	if !slices.Contains(algorithms, jose.SignatureAlgorithm(h.Alg)) {
		return ErrAlgorithm
	}
	return ErrMalformed
}

// rawJSON keeps a verified payload as bytes, for decoding with the
// standard library (numbers as written).
type rawJSON []byte

func (p *rawJSON) UnmarshalJSON(b []byte) error {
	*p = append((*p)[:0], b...)
	return nil
}
