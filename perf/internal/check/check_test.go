package check

import (
	"bytes"
	"testing"
)

func TestParseWebFrames(t *testing.T) {
	body := []byte{0, 0, 0, 0, 2, 'h', 'i', 0x80, 0, 0, 0, 15}
	body = append(body, "grpc-status: 0\n"...)
	msgs, trailer, err := ParseWebFrames(body)
	if err != nil || len(msgs) != 1 || string(msgs[0]) != "hi" || trailer != "grpc-status: 0\n" {
		t.Errorf("got %q %q %v", msgs, trailer, err)
	}
	for _, bad := range [][]byte{{0, 0, 0}, {0, 0, 0, 0, 9, 'x'}} {
		if _, _, err := ParseWebFrames(bad); err == nil {
			t.Errorf("%v: got nil error", bad)
		}
	}
}

func FuzzParseWebFrames(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 2, 'h', 'i', 0x80, 0, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, trailer, err := ParseWebFrames(b)
		if err != nil {
			return
		}
		n := len(trailer)
		for _, m := range msgs {
			n += len(m)
			if !bytes.Contains(b, m) {
				t.Fatal("message not from the input")
			}
		}
		if n > len(b) {
			t.Fatalf("%d payload bytes from %d input bytes", n, len(b))
		}
	})
}
