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
