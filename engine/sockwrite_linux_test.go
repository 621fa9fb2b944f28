package engine

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// TestH1WriterFits: an idle socket takes a response; one whose peer stopped
// reading and whose send buffer is full does not.
func TestH1WriterFits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := ln.Accept() // never read
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	w := &sockWriter{fd: -1}
	_ = raw.Control(func(fd uintptr) { w.fd = int(fd) }) // valid while c is open
	if !w.fits(1 << 10) {
		t.Fatalf("idle socket: fits(1 KiB) = false; want true")
	}
	_ = c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	chunk := make([]byte, 64<<10)
	for {
		if _, err := c.Write(chunk); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
	}
	// The writes above went past the writer, which counts only its own
	// flushes against the room it last saw: a writer of its own asks.
	w = &sockWriter{fd: w.fd}
	if w.fits(64 << 10) {
		t.Fatalf("full socket: fits(64 KiB) = true; want false")
	}
	if w := (&sockWriter{fd: -1}); !w.fits(1 << 20) {
		t.Fatalf("no descriptor: fits = false; want true (flush in place)")
	}
}
