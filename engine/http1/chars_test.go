package http1

import (
	"math/rand/v2"
	"testing"
)

// TestValidValueWords checks the word-at-a-time check against the table,
// for every byte value at every position of a word and for random words.
func TestValidValueWords(t *testing.T) {
	b := make([]byte, 19)
	for pos := range b {
		for c := 0; c < 256; c++ {
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			if got, want := validValue(b), validValueSlow(b); got != want {
				t.Fatalf("byte %#x at %d: got %v; want %v", c, pos, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(4) > 0 {
				b[i] |= 0x20
			}
		}
		if got, want := validValue(b), validValueSlow(b); got != want {
			t.Fatalf("%q: got %v; want %v", b, got, want)
		}
	}
}

// validTargetBytes is the definition validTarget implements.
func validTargetBytes(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c <= ' ' || c >= 0x7f || c == '#':
			return false
		case c == '%':
			if i+2 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func TestValidTargetWords(t *testing.T) {
	b := make([]byte, 19)
	for pos := range b {
		for c := 0; c < 256; c++ {
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			if got, want := validTarget(b), validTargetBytes(b); got != want {
				t.Fatalf("byte %#x at %d: got %v; want %v", c, pos, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("abc/%4F?=&#\x00\x7f\x80 ")
	for range 200000 {
		b = b[:rng.IntN(20)]
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if got, want := validTarget(b), validTargetBytes(b); got != want {
			t.Fatalf("%q: got %v; want %v", b, got, want)
		}
	}
}
