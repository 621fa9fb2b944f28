package h2_test

import (
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/h2"
)

// pings answers the client's PINGs at once, as a live backend does, for d
// or until it has seen n of them, and returns when each came.
func (p *rawPeer) pings(d time.Duration, n int) []time.Time {
	var at []time.Time
	timeout := time.After(d)
	for len(at) < n {
		select {
		case f, ok := <-p.frames:
			if !ok {
				return at
			}
			if f, ok := f.(*http2.PingFrame); ok && !f.IsAck() {
				at = append(at, time.Now())
				p.do(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
			}
		case <-timeout:
			return at
		}
	}
	return at
}

// TestClientPingSchedule: a stream is open and the peer answers PINGs
// but sends nothing else, as a grpc-go backend over a long call does.
// The client sends its first PING after activePing (500ms) of silence
// and one early one, then no more until the peer sends HEADERS or DATA
// or PingMinInterval has passed: with its default policy grpc-go
// answers the third PING that comes within 5 min of the one before,
// with none of its HEADERS or DATA between, with GOAWAY "too_many_pings"
// and ends every stream on the connection. Before, the client pinged
// every 500ms.
func TestClientPingSchedule(t *testing.T) {
	const forever = time.Hour // no more PINGs without HEADERS or DATA
	for _, tc := range []struct {
		name  string
		min   time.Duration // PingMinInterval
		speak func(p *rawPeer, id uint32)
		want  int // PINGs in the 1.7s after speaking
	}{
		{"silent", 0, nil, 0},
		{"HEADERS", forever, func(p *rawPeer, id uint32) {
			p.respond(id, false, hpack.HeaderField{Name: ":status", Value: "200"})
		}, 2},
		{"DATA", forever, func(p *rawPeer, id uint32) {
			p.respond(id, false, hpack.HeaderField{Name: ":status", Value: "200"})
			if at := p.pings(time.Second, 1); len(at) != 1 {
				p.t.Fatalf("PINGs within 1s of HEADERS: got %d; want 1", len(at))
			}
			p.do(func(fr *http2.Framer) error { return fr.WriteData(id, false, []byte("x")) })
		}, 2},
		// The third PING is due 1.8s after the second: after 2.3s at the
		// earliest, before 3.4s at the latest (ticks of 200ms).
		{"PingMinInterval", 1800 * time.Millisecond, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each waits on timers for seconds
			p := newRawPeer(t)
			// PingTimeout keeps the watchdog's tick at 200ms.
			c, nc := dialClient(t, p.addr, h2.Config{KeepAlive: time.Minute,
				PingTimeout: 400 * time.Millisecond, PingMinInterval: tc.min})
			p.accept()
			s := openRetry(t, c, reqFields("GET", "/slow"), true, newResult())
			if at := p.pings(2200*time.Millisecond, 3); len(at) != 2 {
				t.Fatalf("PINGs while the peer is silent for 2.2s: got %d; want 2", len(at))
			}
			if tc.speak != nil {
				tc.speak(p, s.ID())
			}
			if at := p.pings(1700*time.Millisecond, tc.want+1); len(at) != tc.want {
				t.Fatalf("PINGs in the next 1.7s: got %d; want %d", len(at), tc.want)
			}
			if !nc.IsActive() || c.Available() == 0 {
				t.Fatalf("live peer's connection: active %v, Available %d", nc.IsActive(), c.Available())
			}
		})
	}
}

// TestClientIdlePing: a connection without streams is pinged once after
// KeepAlive of silence, then not again while the peer sends nothing
// (grpc-go strikes PINGs within 2h on a connection without streams,
// whatever its MinTime); a response makes it due again.
func TestClientIdlePing(t *testing.T) {
	p := newRawPeer(t)
	c, _ := dialClient(t, p.addr, h2.Config{KeepAlive: 50 * time.Millisecond, PingMinInterval: 50 * time.Millisecond})
	p.accept()
	if at := p.pings(300*time.Millisecond, 2); len(at) != 1 {
		t.Fatalf("PINGs of an idle connection in 300ms: got %d; want 1", len(at))
	}
	r := newResult()
	s := openRetry(t, c, reqFields("GET", "/"), true, r)
	p.next(isHeaders)
	p.respond(s.ID(), true, hpack.HeaderField{Name: ":status", Value: "204"})
	r.wait(t)
	if at := p.pings(300*time.Millisecond, 2); len(at) != 1 {
		t.Fatalf("PINGs in 300ms after a response: got %d; want 1", len(at))
	}
}
