package h2_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/h2"
)

// attacker is a raw HTTP/2 client built from x/net's Framer, one attack
// per connection.
type attacker struct {
	t      testing.TB
	c      net.Conn
	fr     *http2.Framer
	enc    *hpack.Encoder
	hbuf   bytes.Buffer
	wmu    sync.Mutex
	mu     sync.Mutex
	goAway *http2.GoAwayFrame
	rsts   []http2.ErrCode
	heads  map[uint32][]hpack.HeaderField
	lasts  []uint32 // last stream ids of every GOAWAY
	pings  int      // PING ACKs received
	acks   int      // SETTINGS ACKs received
	done   chan struct{}
	ack    atomic.Bool // a SETTINGS awaits our ACK
	noAck  bool        // steps are inside a header block: never ACK
}

func newAttacker(t testing.TB, addr string, settings ...http2.Setting) *attacker {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	a := &attacker{t: t, c: c, done: make(chan struct{}), heads: map[uint32][]hpack.HeaderField{}}
	a.fr = http2.NewFramer(c, c)
	a.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	a.fr.MaxHeaderListSize = 1 << 20
	a.enc = hpack.NewEncoder(&a.hbuf)
	io.WriteString(c, http2.ClientPreface)
	a.fr.WriteSettings(settings...)
	return a
}

// read consumes the server's frames until the connection ends.
func (a *attacker) read() *attacker {
	go func() {
		defer close(a.done)
		for {
			f, err := a.fr.ReadFrame()
			if err != nil {
				return
			}
			a.mu.Lock()
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				a.lasts = append(a.lasts, f.LastStreamID)
				if a.goAway == nil {
					a.goAway = f
				}
			case *http2.RSTStreamFrame:
				a.rsts = append(a.rsts, f.ErrCode)
			case *http2.MetaHeadersFrame:
				a.heads[f.StreamID] = f.Fields
			case *http2.PingFrame:
				if f.IsAck() {
					a.pings++
				}
			case *http2.SettingsFrame:
				if f.IsAck() {
					a.acks++
				} else {
					a.ack.Store(true)
				}
			}
			a.mu.Unlock()
		}
	}()
	return a
}

func (a *attacker) closed() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// write runs one attack step; false once the server hung up.
func (a *attacker) write(fn func(fr *http2.Framer) error) bool {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	_ = a.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if !a.noAck && a.ack.Swap(false) { // between steps, never inside a header block
		a.fr.WriteSettingsAck()
	}
	if fn(a.fr) != nil || a.closed() {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.goAway == nil
}

func (a *attacker) block(fields ...hpack.HeaderField) []byte {
	a.hbuf.Reset()
	for _, f := range fields {
		a.enc.WriteField(f)
	}
	return append([]byte(nil), a.hbuf.Bytes()...)
}

func (a *attacker) request(path string) []byte {
	return a.block(hpack.HeaderField{Name: ":method", Value: "POST"},
		hpack.HeaderField{Name: ":scheme", Value: "http"},
		hpack.HeaderField{Name: ":authority", Value: "x"},
		hpack.HeaderField{Name: ":path", Value: path})
}

// expectGoAway waits for the connection to end and checks the GOAWAY code.
func (a *attacker) expectGoAway(code http2.ErrCode) {
	a.t.Helper()
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		a.t.Fatal("server kept the abusive connection open")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.goAway == nil || a.goAway.ErrCode != code {
		a.t.Fatalf("GOAWAY %v (%v %q); want code %v", a.goAway, errCodeOf(a.goAway), debugOf(a.goAway), code)
	}
}

// goodClient keeps requesting GET / on its own connection while an attack
// runs; stop reports how many succeeded and the first failure.
type goodClient struct {
	ok   atomic.Int64
	err  atomic.Value
	stop chan struct{}
	wg   sync.WaitGroup
}

func startGoodClient(addr string) *goodClient {
	g := &goodClient{stop: make(chan struct{})}
	cl := h2cClient()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for i := 0; i < 100_000; i++ {
			select {
			case <-g.stop:
				return
			default:
			}
			resp, err := cl.Get("http://" + addr + "/")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 404 || string(b) != notFound {
					err = errors.New("bad response " + resp.Status)
				}
			}
			if err != nil {
				g.err.CompareAndSwap(nil, err)
				return
			}
			g.ok.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return g
}

func (g *goodClient) check(t testing.TB) {
	t.Helper()
	time.Sleep(20 * time.Millisecond)
	close(g.stop)
	g.wg.Wait()
	if err, _ := g.err.Load().(error); err != nil {
		t.Fatalf("good client failed during the attack: %v", err)
	}
	if g.ok.Load() == 0 {
		t.Fatal("good client was never served")
	}
}

// waitConns waits until the server holds at most n connections: the
// abuser's state is gone.
func waitConns(t testing.TB, srv *server, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.open.Load() > n {
		if time.Now().After(deadline) {
			t.Fatalf("server still holds %d connections; want %d", srv.open.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// countingAcceptor counts accepted streams and answers like testAcceptor.
type countingAcceptor struct{ n atomic.Int64 }

func (c *countingAcceptor) Accept(s *h2.Stream, f []h2.Field, end bool) h2.StreamHandler {
	c.n.Add(1)
	return testAcceptor{}.Accept(s, f, end)
}

func errCodeOf(f *http2.GoAwayFrame) any {
	if f == nil {
		return nil
	}
	return f.ErrCode
}

func debugOf(f *http2.GoAwayFrame) string {
	if f == nil {
		return ""
	}
	return string(f.DebugData())
}

// served waits for the connection to end and returns a count the server
// produced (answers to the flood), which is what the budget bounds.
func (a *attacker) served(n func() int) int {
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return n()
}
