package reqhdr

import (
	"strings"
	"testing"
)

func TestNextChecks(t *testing.T) {
	g := NewGen(1, 2)
	seen := map[string]bool{}
	lens := map[int]bool{}
	for range 10000 {
		id, auth := g.Next()
		if err := Check(id, auth); err != nil {
			t.Fatalf("Check(%q, %q) = %v", id, auth, err)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
		lens[len(auth)-len(Bearer)] = true
	}
	for n := MinToken; n <= MaxToken; n++ {
		if !lens[n] {
			t.Errorf("token length %d never drawn", n)
		}
	}
}

func TestSameSeedSameValues(t *testing.T) {
	a, b := NewGen(7, 1), NewGen(7, 1)
	for range 100 {
		ia, aa := a.Next()
		ib, ab := b.Next()
		if ia != ib || aa != ab {
			t.Fatalf("got %q %q and %q %q", ia, aa, ib, ab)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef"
	tok := strings.Repeat("x", 32) + id[:8]
	tests := []struct {
		id, auth string
		want     error
	}{
		{id, Bearer + tok, nil},
		{id[:31], Bearer + tok, ErrID},
		{strings.ToUpper(id), Bearer + tok, ErrID},
		{id, "Basic " + tok, ErrAuth},
		{id, Bearer + tok[1:], ErrAuth},
		{id, Bearer + "!" + tok, ErrAuth},
		{id, Bearer + strings.Repeat("x", 61), ErrAuth},
		{"f" + id[1:], Bearer + tok, ErrPair},
	}
	for _, tt := range tests {
		if got := Check(tt.id, tt.auth); got != tt.want {
			t.Errorf("Check(%q, %q) = %v; want %v", tt.id, tt.auth, got, tt.want)
		}
	}
}

func FuzzCheck(f *testing.F) {
	g := NewGen(3, 4)
	id, auth := g.Next()
	f.Add(id, auth)
	f.Add("", "Bearer ")
	f.Fuzz(func(t *testing.T, id, auth string) {
		if Check(id, auth) == nil && (len(id) != IDLen || auth[len(auth)-PairLen:] != id[:PairLen]) {
			t.Fatalf("accepted %q %q", id, auth)
		}
	})
}

func BenchmarkNext(b *testing.B) {
	g := NewGen(1, 1)
	b.ReportAllocs()
	for b.Loop() {
		g.Next()
	}
}
