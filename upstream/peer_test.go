package upstream

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2peer is a scripted HTTP/2 server on x/net's Framer, for what grpc-go
// does not do on demand: a GOAWAY below streams it received, PINGs left
// unanswered. Each accepted connection arrives on conns once the
// handshake is done.
type h2peer struct {
	addr     string
	conns    chan *peerConn
	accepted *atomic.Int32
}

type peerConn struct {
	c       net.Conn
	mu      sync.Mutex // guards fr's writes, enc, buf
	fr      *http2.Framer
	enc     *hpack.Encoder
	buf     bytes.Buffer
	headers chan uint32 // ids of the streams the client opened
}

// startPeer serves connections; answerPings false plays a backend that
// hangs after the handshake.
func startPeer(t *testing.T, answerPings bool) *h2peer {
	ln := listen(t)
	p := &h2peer{addr: ln.Addr().String(), conns: make(chan *peerConn, 16)}
	p.accepted = acceptLoop(t, ln, func(c net.Conn) {
		pre := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(c, pre); err != nil {
			return
		}
		pc := &peerConn{c: c, fr: http2.NewFramer(c, c), headers: make(chan uint32, 64)}
		pc.enc = hpack.NewEncoder(&pc.buf)
		pc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		pc.write(func(fr *http2.Framer) error { return fr.WriteSettings() })
		p.conns <- pc
		pc.read(answerPings)
	})
	return p
}

func (pc *peerConn) write(fn func(fr *http2.Framer) error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	_ = fn(pc.fr)
}

func (pc *peerConn) read(answerPings bool) {
	for {
		f, err := pc.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				pc.write(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
			}
		case *http2.MetaHeadersFrame:
			pc.headers <- f.StreamID
		case *http2.PingFrame:
			if answerPings && !f.IsAck() {
				pc.write(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
			}
		}
	}
}

// next returns the next connection the peer accepted.
func (p *h2peer) next(t *testing.T) *peerConn {
	t.Helper()
	select {
	case pc := <-p.conns:
		return pc
	case <-time.After(5 * time.Second):
		t.Fatal("no connection to the peer within 5s")
		return nil
	}
}

// stream returns the id of the next stream the client opened.
func (pc *peerConn) stream(t *testing.T) uint32 {
	t.Helper()
	select {
	case id := <-pc.headers:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no HEADERS within 5s")
		return 0
	}
}

// respond ends a stream with an OK gRPC response without a message.
func (pc *peerConn) respond(id uint32) {
	pc.write(func(fr *http2.Framer) error {
		pc.buf.Reset()
		pc.enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
		pc.enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/grpc"})
		pc.enc.WriteField(hpack.HeaderField{Name: "grpc-status", Value: "0"})
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id,
			BlockFragment: pc.buf.Bytes(), EndHeaders: true, EndStream: true})
	})
}

func (pc *peerConn) goAway(last uint32) {
	pc.write(func(fr *http2.Framer) error { return fr.WriteGoAway(last, http2.ErrCodeNo, nil) })
}
