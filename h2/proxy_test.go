package h2_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"golang.org/x/net/http2"

	"github.com/straitgw/strait/h2"
)

// proxy relays every downstream stream to one upstream h2.Conn: callbacks
// of one connection write to the other, the pattern of strait's gRPC
// relay, so a lock held across a callback would deadlock here.
type proxy struct{ up *h2.Conn }

type downHalf struct{ up *h2.Stream }
type upHalf struct {
	down    *h2.Stream
	headers bool
}

func (p *proxy) Accept(s *h2.Stream, fields []h2.Field, end bool) h2.StreamHandler {
	u := &upHalf{down: s}
	up, err := p.up.OpenStream(fields, end, u)
	if err != nil {
		s.WriteHeaders([]h2.Field{{Name: ":status", Value: "503"}}, true)
		return nil
	}
	return &downHalf{up: up}
}

func (d *downHalf) OnHeaders(s *h2.Stream, f []h2.Field, end bool) { d.up.WriteHeaders(f, end) }
func (d *downHalf) OnData(s *h2.Stream, p []byte, end bool) {
	if err := d.up.WriteData(p, end); err != nil {
		s.Reset(h2.ErrCodeInternal)
		return
	}
	s.Consume(len(p))
}
func (d *downHalf) OnClose(s *h2.Stream, err error) {
	if err != nil {
		d.up.Reset(h2.ErrCodeCancel)
	}
}

func (u *upHalf) OnHeaders(s *h2.Stream, f []h2.Field, end bool) { u.down.WriteHeaders(f, end) }
func (u *upHalf) OnData(s *h2.Stream, p []byte, end bool) {
	if err := u.down.WriteData(p, end); err != nil {
		s.Reset(h2.ErrCodeCancel)
		return
	}
	s.Consume(len(p))
}
func (u *upHalf) OnClose(s *h2.Stream, err error) {
	if err != nil {
		u.down.Reset(h2.ErrCodeInternal)
	}
}

// TestProxyRelay: x/net client -> h2 server -> h2 client -> x/net server,
// many concurrent echoes with trailers through one upstream connection.
func TestProxyRelay(t *testing.T) {
	backend := startXNet(t, &http2.Server{}, http.HandlerFunc(echoHTTP))
	up, _ := dialClient(t, backend, h2.Config{})
	srv := startServer(t, h2.Config{}, &proxy{up: up})
	cl := h2cClient()
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := (i * 15485863) % (300 << 10)
			want := bytes.Repeat([]byte{byte(i)}, n)
			resp, err := cl.Post("http://"+srv.addr+"/echo", "application/octet-stream", bytes.NewReader(want))
			if err != nil {
				t.Error(err)
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 && resp.StatusCode != 503 {
				t.Errorf("echo %d: %v %d", n, err, resp.StatusCode)
				return
			}
			if resp.StatusCode == 503 {
				return // upstream full before its SETTINGS: allowed
			}
			if !bytes.Equal(got, want) || resp.Trailer.Get("x-len") != fmt.Sprint(n) {
				t.Errorf("echo %d: got %d bytes, trailer %q", n, len(got), resp.Trailer.Get("x-len"))
			}
		}()
	}
	wg.Wait()
}
