package upstream

import (
	"net"
	"net/netip"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// FuzzSplitTarget: a name to resolve is exactly a host:port that
// net.SplitHostPort accepts with a host that is no IP literal, and the
// parts join back to an address that splits the same way.
func FuzzSplitTarget(f *testing.F) {
	for _, s := range []string{"backend:50051", "127.0.0.1:80", "[::1]:443", "[fe80::1%eth0]:1",
		":8080", "noport", "a.b.c:http", "[host]:1", "1.2.3.4", "::1", "x:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		host, port, ok := splitTarget(addr)
		h, p, err := net.SplitHostPort(addr)
		_, ipErr := netip.ParseAddr(h)
		want := err == nil && h != "" && ipErr != nil
		if ok != want {
			t.Fatalf("splitTarget(%q) ok = %v; want %v", addr, ok, want)
		}
		if !ok {
			return
		}
		if host != h || port != p {
			t.Fatalf("splitTarget(%q) = %q, %q; want %q, %q", addr, host, port, h, p)
		}
		h2, p2, err := net.SplitHostPort(net.JoinHostPort(host, port))
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("%q: joined parts split to %q, %q, %v", addr, h2, p2, err)
		}
	})
}

// FuzzServingStatus agrees with protowire on the first field of a
// HealthCheckResponse behind a gRPC prefix, at any length and never panics.
func FuzzServingStatus(f *testing.F) {
	for _, s := range [][]byte{{0, 0, 0, 0, 2, 8, 1}, {0, 0, 0, 0, 2, 8, 2}, {0, 0, 0, 0, 0},
		{0, 0xff, 0xff, 0xff, 0xff, 8, 1}, {0, 0, 0, 0, 1, 8, 1}, {0, 0, 0}, {0, 0, 0, 0, 3, 8, 0x81, 0}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if got, want := servingStatus(p), servingRef(p); got != want {
			t.Fatalf("servingStatus(%x) = %v; want %v", p, got, want)
		}
	})
}

// servingRef: field 1, varint, value 1, each in its shortest form, first
// in the message that the prefix's length bounds.
func servingRef(p []byte) bool {
	if len(p) < 5 {
		return false
	}
	msg := p[5:]
	if n := uint64(p[1])<<24 | uint64(p[2])<<16 | uint64(p[3])<<8 | uint64(p[4]); n < uint64(len(msg)) {
		msg = msg[:n]
	}
	num, typ, n := protowire.ConsumeTag(msg)
	if n != 1 || num != 1 || typ != protowire.VarintType {
		return false
	}
	v, m := protowire.ConsumeVarint(msg[n:])
	return m == 1 && v == 1
}
