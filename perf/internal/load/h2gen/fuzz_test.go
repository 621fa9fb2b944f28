package h2gen

import (
	"bytes"
	"testing"

	"github.com/straitgw/strait/perf/internal/payload"
)

// FuzzWebTrailer: SplitFrames and webTrailer never panic on any body, and
// frames they accept re-encode to the same bytes.
func FuzzWebTrailer(f *testing.F) {
	f.Add(append(payload.Frame(payload.Ping()), 0x80, 0, 0, 0, 16, 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't', 'u', 's', ':', ' ', '0', '\r', '\n'))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0x80, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		webTrailer(b)
		flags, msgs, err := SplitFrames(b)
		if err != nil {
			return
		}
		var re []byte
		for i, m := range msgs {
			re = append(re, flags[i], byte(len(m)>>24), byte(len(m)>>16), byte(len(m)>>8), byte(len(m)))
			re = append(re, m...)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("re-encoded %x; want %x", re, b)
		}
	})
}
