package engine

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/internal/testutil"
)

// abuser is one attacking h2c connection to the gateway, built on x/net's
// Framer. Its reader runs until the gateway closes the connection and
// records the GOAWAY it got.
type abuser struct {
	c      net.Conn
	fr     *http2.Framer
	goaway chan http2.ErrCode
}

func newAbuser(t *testing.T, addr string) *abuser {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	a := &abuser{c: c, fr: http2.NewFramer(c, c), goaway: make(chan http2.ErrCode, 1)}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	_ = a.fr.WriteSettings()
	rfr := http2.NewFramer(nil, c)
	go func() {
		code := http2.ErrCode(0xffff) // closed without GOAWAY
		for {
			f, err := rfr.ReadFrame()
			if err != nil {
				a.goaway <- code
				return
			}
			if g, ok := f.(*http2.GoAwayFrame); ok {
				code = g.ErrCode
			}
		}
	}()
	return a
}

func (a *abuser) headers(fields ...string) []byte {
	var b bytes.Buffer
	enc := hpack.NewEncoder(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return b.Bytes()
}

func (a *abuser) get() []byte {
	return a.headers(":method", "GET", ":scheme", "http", ":path", "/v1/shelves/1", ":authority", "x")
}

// TestAttacks runs the known HTTP/2 attacks against a real gateway, one
// connection each, bounded in count and time. Each abuser must get GOAWAY
// with the fitting code, and a well-behaved h2c client must be served
// throughout.
func TestAttacks(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	addr := e.Addr().String()
	attacks := []struct {
		name string
		want http2.ErrCode
		run  func(a *abuser)
	}{
		{"rapid reset", http2.ErrCodeEnhanceYourCalm, func(a *abuser) {
			block := a.get()
			for i := uint32(0); i < 100_000; i++ {
				id := 2*i + 1
				if a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true, EndStream: true}) != nil ||
					a.fr.WriteRSTStream(id, http2.ErrCodeCancel) != nil {
					return
				}
			}
		}},
		{"continuation flood", http2.ErrCodeEnhanceYourCalm, func(a *abuser) {
			_ = a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.get()})
			frag := a.headers("x-flood", strings.Repeat("v", 1000))
			for i := 0; i < 20_000; i++ {
				if a.fr.WriteContinuation(1, false, frag) != nil {
					return
				}
			}
		}},
		{"ping flood", http2.ErrCodeEnhanceYourCalm, func(a *abuser) {
			for i := 0; i < 100_000; i++ {
				if a.fr.WritePing(false, [8]byte{byte(i)}) != nil {
					return
				}
			}
		}},
		{"settings flood", http2.ErrCodeEnhanceYourCalm, func(a *abuser) {
			for i := 0; i < 100_000; i++ {
				if a.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535}) != nil {
					return
				}
			}
		}},
		{"empty data flood", http2.ErrCodeEnhanceYourCalm, func(a *abuser) {
			_ = a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
				BlockFragment: a.headers(":method", "POST", ":scheme", "http", ":path", "/v1/shelves", ":authority", "x", "content-type", "application/json")})
			for i := 0; i < 100_000; i++ {
				if a.fr.WriteData(1, false, nil) != nil {
					return
				}
			}
		}},
		{"hpack bomb", http2.ErrCodeEnhanceYourCalm, func(a *abuser) {
			var b bytes.Buffer
			enc := hpack.NewEncoder(&b)
			_ = enc.WriteField(hpack.HeaderField{Name: "x-bomb", Value: strings.Repeat("b", 4000)})
			first := append([]byte(nil), b.Bytes()...)
			b.Reset()
			for i := 0; i < 4000; i++ { // each re-reference is one byte on the wire
				_ = enc.WriteField(hpack.HeaderField{Name: "x-bomb", Value: strings.Repeat("b", 4000)})
			}
			block := append(append(a.get(), first...), b.Bytes()...)
			for id := uint32(1); id < 400; id += 2 {
				if a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true, EndStream: true}) != nil {
					return
				}
			}
		}},
	}
	hc := testutil.H2CClient()
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			stop, good := make(chan struct{}), make(chan error, 1)
			go goodClient(hc, addr, stop, good)
			a := newAbuser(t, addr)
			at.run(a)
			select {
			case code := <-a.goaway:
				t.Logf("abuser got GOAWAY %v", code)
				if code != at.want {
					t.Fatalf("abuser got GOAWAY %v; want %v", code, at.want)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("abuser not cut off")
			}
			close(stop)
			if err := <-good; err != nil {
				t.Fatalf("good client during the attack: %v", err)
			}
		})
	}
}

// goodClient calls the gateway in a loop until stop, and reports the first
// failure (or nil, after at least one success).
func goodClient(hc *http.Client, addr string, stop chan struct{}, out chan<- error) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			out <- nil
			return
		default:
		}
		resp, err := hc.Get("http://" + addr + "/v1/shelves/1")
		if err != nil {
			out <- err
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"1"`) {
			out <- fmt.Errorf("%d %s", resp.StatusCode, body)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
