package h2_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/h2"
)

// attack runs one abusive connection against a server with defaults while
// a good client is being served, and checks the abuser is cut off.
func attack(t *testing.T, cfg h2.Config, run func(a *attacker) int, want http2.ErrCode, maxSteps int) {
	acc := &countingAcceptor{}
	srv := startServer(t, cfg, acc)
	good := startGoodClient(srv.addr)
	time.Sleep(10 * time.Millisecond)
	a := newAttacker(t, srv.addr).read()
	steps := run(a)
	a.expectGoAway(want)
	if steps >= maxSteps {
		t.Fatalf("cut off after %d steps; want fewer than %d", steps, maxSteps)
	}
	t.Logf("abuser cut off after %d steps, %d streams accepted", steps, acc.n.Load())
	if acc.n.Load() > 2_000 {
		t.Fatalf("%d abusive streams reached the acceptor", acc.n.Load())
	}
	good.check(t)
	waitConns(t, srv, 1)
}

func TestAttackRapidReset(t *testing.T) {
	// Steps here are attacker writes, pipelined far ahead of the server;
	// the acceptor count below is the server-side bound.
	attack(t, h2.Config{}, func(a *attacker) int {
		block := a.request("/echo")
		for i := 0; i < 100_000; i++ {
			id := uint32(2*i + 1)
			if !a.write(func(fr *http2.Framer) error {
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true})
				return fr.WriteRSTStream(id, http2.ErrCodeCancel)
			}) {
				return i
			}
		}
		return 100_000
	}, http2.ErrCodeEnhanceYourCalm, 100_000)
}

func TestAttackContinuationFlood(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		a.noAck = true
		a.write(func(fr *http2.Framer) error {
			return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/")})
		})
		val := strings.Repeat("v", 1000)
		for i := 0; i < 100_000; i++ {
			frag := a.block(hpack.HeaderField{Name: "x-flood", Value: val})
			if !a.write(func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, frag) }) {
				return i
			}
		}
		return 100_000
	}, http2.ErrCodeEnhanceYourCalm, 100_000)
}

func TestAttackPingFlood(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		for i := 0; i < 100_000; i++ {
			if !a.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{1}) }) {
				break
			}
		}
		return a.served(func() int { return a.pings })
	}, http2.ErrCodeEnhanceYourCalm, 5_000)
}

func TestAttackSettingsFlood(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		for i := 0; i < 100_000; i++ {
			if !a.write(func(fr *http2.Framer) error {
				return fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10})
			}) {
				break
			}
		}
		return a.served(func() int { return a.acks })
	}, http2.ErrCodeEnhanceYourCalm, 5_000)
}

func TestAttackResetFlood(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		a.write(func(fr *http2.Framer) error {
			return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/"), EndHeaders: true, EndStream: true})
		})
		for i := 0; i < 100_000; i++ {
			if !a.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(1, http2.ErrCodeCancel) }) {
				return i
			}
		}
		return 100_000
	}, http2.ErrCodeEnhanceYourCalm, 100_000)
}

func TestAttackEmptyDataFlood(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		a.write(func(fr *http2.Framer) error {
			return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/echo"), EndHeaders: true})
		})
		for i := 0; i < 100_000; i++ {
			if !a.write(func(fr *http2.Framer) error { return fr.WriteData(1, false, nil) }) {
				return i
			}
		}
		return 100_000
	}, http2.ErrCodeEnhanceYourCalm, 100_000)
}

func TestAttackEmptyHeadersFlood(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		a.noAck = true
		a.write(func(fr *http2.Framer) error {
			return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1})
		})
		for i := 0; i < 100_000; i++ {
			if !a.write(func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, nil) }) {
				return i
			}
		}
		return 100_000
	}, http2.ErrCodeEnhanceYourCalm, 100_000)
}

// TestAttackEmptyHeaderName: a zero-length name makes the request
// malformed (RST_STREAM PROTOCOL_ERROR); repeating it is a reset flood.
func TestAttackEmptyHeaderName(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		for i := 0; i < 100_000; i++ {
			block := append(a.request("/"), a.block(hpack.HeaderField{Name: "", Value: "x"})...)
			id := uint32(2*i + 1)
			if !a.write(func(fr *http2.Framer) error {
				return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true, EndStream: true})
			}) {
				return i
			}
			if i == 0 {
				waitFor(a, func() bool { return len(a.rsts) > 0 })
				if a.rsts[0] != http2.ErrCodeProtocol {
					a.t.Errorf("first malformed request: RST %v; want PROTOCOL_ERROR", a.rsts[0])
				}
			}
		}
		return 100_000
	}, http2.ErrCodeEnhanceYourCalm, 100_000)
}

// TestAttackHPACKBomb: one 4000-byte dynamic table entry referenced by a
// one-octet index 12k times would expand to 48 MB. The server counts the
// expansion without materialising it and ends the connection.
func TestAttackHPACKBomb(t *testing.T) {
	attack(t, h2.Config{}, func(a *attacker) int {
		big := hpack.HeaderField{Name: "x-bomb", Value: strings.Repeat("b", 4000)}
		for i := 0; i < 1_000; i++ {
			block := a.request("/")
			if i == 0 {
				block = append(block, a.block(big)...) // indexed as entry 62
			}
			block = append(block, bytes.Repeat([]byte{0x80 | 62}, 12000)...)
			id := uint32(2*i + 1)
			if !a.write(func(fr *http2.Framer) error {
				return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true})
			}) {
				return i
			}
		}
		return 1_000
	}, http2.ErrCodeEnhanceYourCalm, 1_000)
}

// TestHeaderListTooLarge: a request over MaxHeaderListSize (but no bomb)
// gets 431 and the connection goes on.
func TestHeaderListTooLarge(t *testing.T) {
	srv := startServer(t, h2.Config{MaxHeaderListSize: 8 << 10}, testAcceptor{})
	a := newAttacker(t, srv.addr).read()
	val := strings.Repeat("v", 1000)
	block := a.request("/")
	for i := range 12 {
		block = append(block, a.block(hpack.HeaderField{Name: "x-big-" + strings.Repeat("i", i), Value: val})...)
	}
	a.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true})
	})
	waitFor(a, func() bool { return a.heads[1] != nil })
	a.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: a.request("/"), EndStream: true, EndHeaders: true})
	})
	waitFor(a, func() bool { return a.heads[3] != nil })
	a.mu.Lock()
	defer a.mu.Unlock()
	if got := a.heads[1][0].Value; got != "431" {
		t.Fatalf("oversized request: status %s; want 431", got)
	}
	if got := a.heads[3][0].Value; got != "404" {
		t.Fatalf("next request: status %s; want 404", got)
	}
}

func waitFor(a *attacker, cond func() bool) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		a.mu.Lock()
		ok := cond()
		a.mu.Unlock()
		if ok {
			return
		}
	}
	a.t.Fatal("condition not met in time")
}

// TestAttackPingFloodNotReading: the flooder never reads its ACKs; the
// server must neither block on it nor queue without bound, and its state
// is freed.
func TestAttackPingFloodNotReading(t *testing.T) {
	srv := startServer(t, h2.Config{}, testAcceptor{})
	good := startGoodClient(srv.addr)
	time.Sleep(10 * time.Millisecond)
	a := newAttacker(t, srv.addr)
	sent := 0
	for ; sent < 100_000; sent++ {
		if !a.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{2}) }) {
			break
		}
	}
	_ = a.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	a.read()
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		t.Fatal("flooding connection still open")
	}
	a.mu.Lock()
	t.Logf("sent %d PINGs, got %d ACKs, GOAWAY %v", sent, a.pings, errCodeOf(a.goAway))
	if a.pings > 5_000 {
		t.Errorf("%d PING ACKs queued for a peer that does not read", a.pings)
	}
	a.mu.Unlock()
	good.check(t)
	waitConns(t, srv, 1)
}
