package h2_test

import (
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/straitgw/strait/h2"
)

// TestBatchEndsWhileInputKeepsComing: a handler's write to another
// connection, corked in its owner's batch as the engine's relays cork a
// client connection from an upstream worker, leaves once Serve has
// handled a bounded amount of further input (OnWait), even when the
// input never runs dry and Serve does not return. Before, the batch
// ended only then, or before a wait for a partial frame: a busy upstream
// connection held its clients' responses for as long as its backend kept
// sending (the e2e fidelity suite saw calls reach their deadline).
func TestBatchEndsWhileInputKeepsComing(t *testing.T) {
	const (
		frame  = 16 << 10
		frames = 48        // 768 KiB, within the default 1 MiB stream window
		after  = 256 << 10 // input handled past the write before it must have left
	)

	// The watcher's stream, on a server connection of its own.
	watched := make(chan *h2.Stream, 1)
	wsrv := startServer(t, h2.Config{}, acceptFunc(func(s *h2.Stream, _ []h2.Field, _ bool) h2.StreamHandler {
		watched <- s
		return nil
	}))
	wc, _ := dialClient(t, wsrv.addr, h2.Config{})
	got := &headersSeen{ch: make(chan struct{})}
	openRetry(t, wc, reqFields("GET", "/watch"), true, got)
	var ws *h2.Stream
	select {
	case ws = <-watched:
	case <-time.After(5 * time.Second):
		t.Fatal("watch stream not accepted")
	}

	// The bulk connection: its owner corks what its handlers write to
	// other connections and uncorks them when OnWait ends the batch.
	var batch []*h2.Conn // the bulk connection's Serve goroutine only
	endBatch := func() {
		for _, c := range batch {
			_ = c.Uncork()
		}
		batch = batch[:0]
	}
	bh := &bulkHandler{blocked: make(chan struct{}), release: make(chan struct{}), verdict: make(chan string, 1)}
	bh.write = func() {
		c := ws.Conn()
		c.Cork()
		batch = append(batch, c)
		_ = ws.WriteHeaders([]h2.Field{{Name: ":status", Value: "200"}}, true)
	}
	bh.check = func() string {
		select {
		case <-got.ch:
			return ""
		case <-time.After(2 * time.Second):
			return "the write corked in the batch had not left 2s after Serve handled 256 KiB more input"
		}
	}
	bh.after = after
	bsrv := startServer(t, h2.Config{OnWait: endBatch}, acceptFunc(func(*h2.Stream, []h2.Field, bool) h2.StreamHandler {
		return bh
	}))

	// The uploader: one frame, and while the handler holds it, the rest,
	// so that Serve then finds them all buffered: its input never runs
	// dry, and it never waits for a partial frame.
	a := newAttacker(t, bsrv.addr).read()
	payload := make([]byte, frame)
	a.write(func(fr *http2.Framer) error {
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/bulk"), EndHeaders: true}); err != nil {
			return err
		}
		return fr.WriteData(1, false, payload)
	})
	select {
	case <-bh.blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("bulk stream not served")
	}
	for i := 1; i < frames; i++ {
		if !a.write(func(fr *http2.Framer) error { return fr.WriteData(1, i == frames-1, payload) }) {
			t.Fatalf("upload stopped at frame %d", i)
		}
	}
	time.Sleep(200 * time.Millisecond) // for netpoll to read it all
	close(bh.release)

	select {
	case v := <-bh.verdict:
		if v != "" {
			t.Fatal(v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bulk upload not served")
	}
}

type acceptFunc func(s *h2.Stream, f []h2.Field, end bool) h2.StreamHandler

func (f acceptFunc) Accept(s *h2.Stream, fs []h2.Field, end bool) h2.StreamHandler {
	return f(s, fs, end)
}

// headersSeen closes ch when the response headers arrive.
type headersSeen struct{ ch chan struct{} }

func (h *headersSeen) OnHeaders(*h2.Stream, []h2.Field, bool) {
	select {
	case <-h.ch:
	default:
		close(h.ch)
	}
}
func (h *headersSeen) OnData(s *h2.Stream, p []byte, _ bool) { s.Consume(len(p)) }
func (h *headersSeen) OnClose(*h2.Stream, error)             {}

// bulkHandler holds the first DATA frame until release; then it writes
// (write) and, once it has taken after more bytes, reports check's
// verdict. Its methods run on the bulk connection's Serve goroutine.
type bulkHandler struct {
	blocked, release chan struct{}
	write            func()
	check            func() string
	after            int
	since            int
	wrote, done      bool
	verdict          chan string
}

func (b *bulkHandler) OnHeaders(*h2.Stream, []h2.Field, bool) {}

func (b *bulkHandler) OnData(s *h2.Stream, p []byte, end bool) {
	s.Consume(len(p))
	if !b.wrote {
		close(b.blocked)
		<-b.release
		b.write()
		b.wrote = true
		return
	}
	b.since += len(p)
	if !b.done && (b.since >= b.after || end) {
		b.done = true
		b.verdict <- b.check()
	}
}

func (b *bulkHandler) OnClose(*h2.Stream, error) {}
