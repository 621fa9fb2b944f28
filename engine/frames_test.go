package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"
)

// readAll parses wire as gRPC messages fed in pieces of chunk bytes.
func readAll(wire []byte, chunk, max int) (msgs [][]byte, ok bool) {
	var m msgReader
	m.reset(max)
	ok = true
	for len(wire) > 0 && ok {
		n := min(chunk, len(wire))
		ok = m.feed(wire[:n], func(g grpcMsg) bool {
			msgs = append(msgs, append([]byte{g.flags}, g.data...))
			return true
		})
		wire = wire[n:]
	}
	return msgs, ok
}

func frame(flags byte, p []byte) []byte {
	b := []byte{flags, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(p)))
	return append(b, p...)
}

// FuzzMsgReader: the gRPC envelope reader gives the same messages at any
// read fragmentation, and refuses a message over its limit.
func FuzzMsgReader(f *testing.F) {
	f.Add(append(frame(0, []byte("hello")), frame(1, nil)...), uint8(1), uint16(64))
	f.Add(frame(0, bytes.Repeat([]byte("x"), 300)), uint8(7), uint16(100))
	f.Add([]byte{0, 0, 0}, uint8(2), uint16(10))
	f.Fuzz(func(t *testing.T, wire []byte, chunk uint8, max uint16) {
		want, wok := readAll(wire, len(wire)+1, int(max))
		got, ok := readAll(wire, int(chunk)+1, int(max))
		if ok != wok || len(got) != len(want) {
			t.Fatalf("chunk %d: got %d msgs (ok %v); want %d (ok %v)", chunk, len(got), ok, len(want), wok)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("chunk %d: message %d differs", chunk, i)
			}
			if len(got[i])-1 > int(max) {
				t.Fatalf("message of %d bytes passed a limit of %d", len(got[i])-1, max)
			}
		}
	})
}

// FuzzGRPCTimeout: a parsed grpc-timeout encodes back to a value no
// shorter, within one unit of the original.
func FuzzGRPCTimeout(f *testing.F) {
	for _, s := range []string{"1S", "100m", "99999999H", "5u", "0n", "1x", "", "-1S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseGRPCTimeout(s)
		if !ok {
			return
		}
		if d < 0 {
			t.Fatalf("%q parsed to a negative %v", s, d)
		}
		back, ok := parseGRPCTimeout(string(appendGRPCTimeout(nil, d)))
		if !ok || back < d && d > 0 || back-d > time.Hour {
			t.Fatalf("%q: %v encodes back to %v", s, d, back)
		}
	})
}

// FuzzWebText: grpc-web-text bodies decode the same whether the client
// sent one base64 run or one padded run per frame, and whatever pieces the
// body arrives in.
func FuzzWebText(f *testing.F) {
	f.Add([]byte("hello"), []byte("world!"), uint8(3))
	f.Add([]byte{}, []byte{0, 0, 0, 0, 1}, uint8(1))
	f.Fuzz(func(t *testing.T, a, b []byte, chunk uint8) {
		joined := base64.StdEncoding.AppendEncode(nil, append(append([]byte(nil), a...), b...))
		split := base64.StdEncoding.AppendEncode(base64.StdEncoding.AppendEncode(nil, a), b)
		want := append(append([]byte{}, a...), b...)
		for _, in := range [][]byte{joined, split} {
			got, err := decodePieces(in, int(chunk)+1)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("decode %q in pieces of %d: got %q, %v; want %q", in, chunk+1, got, err, want)
			}
		}
		_, _ = decodePieces(a, int(chunk)+1) // arbitrary input: an error, never a panic
	})
}

func decodePieces(in []byte, n int) ([]byte, error) {
	var d textDecoder
	var out []byte
	for {
		k := min(n, len(in))
		var err error
		if out, err = d.decode(out, in[:k], k == len(in)); err != nil || k == len(in) {
			return out, err
		}
		in = in[k:]
	}
}
