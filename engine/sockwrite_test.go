//go:build unix

package engine

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"
)

// TestSockWriterLaggingClient writes varied Mallocs and Flushes to a real
// socket whose reader stalls and drains by turns, so the writer keeps
// switching between flushing in place and its background loop. The reader
// checks every byte: a byte the loop sent before the caller filled it, or
// a reserved slice the loop reused, breaks the pattern, and -race sees the
// caller's fill and the loop's copy unordered.
func TestSockWriterLaggingClient(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv("STRAIT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("STRAIT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (replay with STRAIT_SEED=%d)", seed, seed)
	nc, peer := sockPair(t, 64<<10, 256<<10)
	var held atomic.Int64
	var lags atomic.Int32
	caughtUp := make(chan struct{}, 1)
	w := newSockWriter(nc, func() {
		lags.Add(1)
		select {
		case caughtUp <- struct{}{}:
		default:
		}
	}, func(n int) { held.Add(int64(n)) })

	const total = 4 << 20
	read := make(chan error, 1)
	go func() { read <- readPattern(peer, total, rand.New(rand.NewPCG(seed, 1))) }()

	rng := rand.New(rand.NewPCG(seed, 0))
	timeout := time.After(3 * time.Second)
	for off := 0; off < total; {
		for range 1 + rng.IntN(4) {
			n := min(chunkLen(rng), total-off)
			b, err := w.Malloc(n)
			if err != nil {
				t.Fatalf("Malloc(%d) at %d: %v", n, off, err)
			}
			fillPattern(b, off)
			off += n
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("Flush at %d: %v", off, err)
		}
		// As exchanges withhold credit until the client drains, wait for
		// the background flush to end once much is queued.
		if w.backlog() > 256<<10 {
			for w.backlog() > 0 {
				select {
				case <-caughtUp: // may be stale: check again
				case err := <-read:
					t.Fatalf("reader stopped at %d written: %v", off, err)
				case <-timeout:
					t.Fatalf("client never caught up (%d written)", off)
				}
			}
		}
	}
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-timeout:
		t.Fatal("reader timed out")
	}
	for w.backlog() > 0 { // the loop ends just after the last bytes leave
		select {
		case <-time.After(time.Millisecond):
		case <-timeout:
			t.Fatal("background flush never ended")
		}
	}
	if got := held.Load(); got != 0 {
		t.Fatalf("held after the client caught up: got %d; want 0", got)
	}
	if lags.Load() == 0 {
		t.Fatal("the writer never lagged: the test did not reach the background flush")
	}
	t.Logf("%d background flushes", lags.Load())
}

// TestSockWriterGoneWhileLagging: a connection that closes while a
// background flush runs and a Malloc's bytes are not yet sealed gives
// back every byte it counted, and later writes fail.
func TestSockWriterGoneWhileLagging(t *testing.T) {
	nc, _ := sockPair(t, 64<<10, 256<<10) // the peer never reads
	var held atomic.Int64
	w := newSockWriter(nc, func() {}, func(n int) { held.Add(int64(n)) })
	chunk := make([]byte, 16<<10)
	// Past a window's worth, bytes are pending: the loop waits for the peer.
	for i := 0; w.backlog() <= relayHighWater; i++ {
		if i == 1000 {
			t.Fatal("the writer never lagged")
		}
		if _, err := w.WriteBinary(chunk); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.WriteBinary(chunk); err != nil { // open, unsealed
		t.Fatal(err)
	}
	w.gone() // as the close callback does, before netpoll frees the buffers
	_ = nc.Close()
	if _, err := w.Malloc(1); !errors.Is(err, errWriterGone) {
		t.Fatalf("Malloc after gone: got %v; want %v", err, errWriterGone)
	}
	if err := w.Flush(); !errors.Is(err, errWriterGone) {
		t.Fatalf("Flush after gone: got %v; want %v", err, errWriterGone)
	}
	for deadline := time.Now().Add(2 * time.Second); w.backlog() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("background flush never ended")
		}
	}
	if got := held.Load(); got != 0 {
		t.Fatalf("held after close: got %d; want 0", got)
	}
}

// sockPair connects a netpoll connection, with a send buffer of sndbuf
// bytes, to a plain TCP peer over loopback, with a receive buffer of
// rcvbuf. Not much smaller than 64 KiB: buffers near a loopback segment
// make TCP itself stall, for up to seconds (persist timer, small segments).
func sockPair(t *testing.T, sndbuf, rcvbuf int) (netpoll.Connection, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := netpoll.DialConnection("tcp", ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		_ = nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = nc.Close() // first, so that netpoll never sees the peer hang up
		_ = peer.Close()
	})
	if err := peer.(*net.TCPConn).SetReadBuffer(rcvbuf); err != nil {
		t.Fatal(err)
	}
	fd := nc.(interface{ Fd() int }).Fd()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf); err != nil {
		t.Fatal(err)
	}
	return nc, peer
}

// chunkLen is the size of one Malloc: mostly frame headers and small
// frames, some large ones.
func chunkLen(rng *rand.Rand) int {
	switch r := rng.IntN(100); {
	case r < 50:
		return 1 + rng.IntN(64)
	case r < 85:
		return 64 + rng.IntN(4<<10)
	default:
		return 4<<10 + rng.IntN(60<<10)
	}
}

// patternAt is the byte at offset i of the stream. It does not repeat
// within 16 MiB in runs, so a stale or unfilled byte shows.
func patternAt(i int) byte { return byte(i) ^ byte(i>>8)*3 ^ byte(i>>16)*7 }

// fillPattern fills b, which starts at offset off, byte by byte: slowly,
// as a caller encoding a frame does.
func fillPattern(b []byte, off int) {
	for i := range b {
		b[i] = patternAt(off + i)
	}
}

// readPattern reads total bytes from c, in bursts between pauses, and
// checks each against patternAt.
func readPattern(c net.Conn, total int, rng *rand.Rand) error {
	buf := make([]byte, 32<<10)
	for off := 0; off < total; {
		time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
		burst := off + 64<<10 + rng.IntN(512<<10)
		for off < min(burst, total) {
			n, err := c.Read(buf)
			for i, b := range buf[:n] {
				if want := patternAt(off + i); b != want {
					return fmt.Errorf("byte %d: got %#x; want %#x", off+i, b, want)
				}
			}
			off += n
			if err == io.EOF && off < total {
				return fmt.Errorf("EOF at %d of %d", off, total)
			}
			if err != nil && err != io.EOF {
				return err
			}
		}
	}
	return nil
}

// TestSockWriterInPlaceZeroAlloc (run by make allocs, without -race) pins the path of a client that keeps up:
// Malloc, fill and Flush in place allocate nothing.
func TestSockWriterInPlaceZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	nc, peer := sockPair(t, 4<<20, 4<<20)
	go func() { _, _ = io.Copy(io.Discard, peer) }()
	w := newSockWriter(nc, func() {}, func(int) {})
	lagged := false
	allocs := testing.AllocsPerRun(1000, func() {
		for _, n := range []int{9, 100, 4 << 10} {
			b, err := w.Malloc(n)
			if err != nil {
				t.Fatal(err)
			}
			fillPattern(b, 0)
		}
		bg, err := w.flush()
		if err != nil {
			t.Fatal(err)
		}
		lagged = lagged || bg
	})
	if lagged {
		t.Skip("the peer lagged: some flushes were not in place")
	}
	if allocs != 0 {
		t.Fatalf("allocs per Malloc/Flush: got %v; want 0", allocs)
	}
}
