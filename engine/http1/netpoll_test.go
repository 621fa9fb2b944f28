package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
)

type connKey struct{}

// echoServer is a netpoll HTTP/1.1 server on loopback driven by this
// package the way the engine drives it: parse every buffered request,
// answer "METHOD PATH?QUERY BODY", release. It counts reader failures
// (timeouts, EOF) in readErrs.
type echoServer struct {
	addr     string
	readErrs atomic.Int64
}

func startEcho(t *testing.T, readTimeout time.Duration, lim Limits) *echoServer {
	t.Helper()
	ln, err := netpoll.CreateListener("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &echoServer{addr: ln.Addr().String()}
	onConnect := func(ctx context.Context, nc netpoll.Connection) context.Context {
		_ = nc.SetReadTimeout(readTimeout)
		_ = nc.SetWriteTimeout(5 * time.Second)
		return context.WithValue(ctx, connKey{}, new(Request))
	}
	onRequest := func(ctx context.Context, nc netpoll.Connection) error {
		req := ctx.Value(connKey{}).(*Request)
		r := nc.Reader()
		for r.Len() > 0 && nc.IsActive() {
			if !srv.serveOne(nc, r, req, lim) {
				return nc.Close()
			}
		}
		return nil
	}
	loop, err := netpoll.NewEventLoop(onRequest, netpoll.WithOnConnect(onConnect))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = loop.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = loop.Shutdown(ctx)
	})
	return srv
}

// serveOne answers one request; false means close the connection.
func (srv *echoServer) serveOne(nc netpoll.Connection, r netpoll.Reader, req *Request, lim Limits) bool {
	w := nc.Writer()
	req.Reset()
	err := ReadHead(r, req, lim)
	if err == nil && req.ExpectContinue && r.Len() == 0 {
		_, _ = w.WriteBinary(AppendContinue(nil))
		_ = w.Flush()
	}
	if err == nil {
		err = ReadBody(r, req, lim)
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		_, _ = w.WriteBinary(AppendResponseHead(nil, e.Status, "text/plain", len(e.Msg), false, nil))
		_, _ = w.WriteString(e.Msg)
		_ = w.Flush()
		return false
	case err != nil:
		srv.readErrs.Add(1)
		return false
	}
	body := fmt.Sprintf("%s %s?%s %s", req.Method, req.Path, req.RawQuery, req.Body)
	_ = r.Release()
	_, _ = w.WriteBinary(AppendResponseHead(nil, 200, "text/plain", len(body), req.KeepAlive, nil))
	_, _ = w.WriteString(body)
	return w.Flush() == nil && req.KeepAlive
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, bufio.NewReader(c)
}

func readResponse(t *testing.T, br *bufio.Reader) (int, string, bool) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Close
}

// TestNetpollFragmented writes the pipelined stream in small pieces with
// pauses, so the server parses requests that arrive across many reads.
func TestNetpollFragmented(t *testing.T) {
	srv := startEcho(t, 5*time.Second, Limits{})
	for _, piece := range []int{1, 7, 64, len(pipeline)} {
		t.Run(strconv.Itoa(piece), func(t *testing.T) {
			c, br := dial(t, srv.addr)
			go func() {
				for i := 0; i < len(pipeline); i += piece {
					if _, err := c.Write([]byte(pipeline[i:min(i+piece, len(pipeline))])); err != nil {
						return
					}
					time.Sleep(200 * time.Microsecond)
				}
			}()
			want := []string{"GET /a?b=c ", `POST /v1/x? {"k":"v"}`, "POST /c? wikipedia", "GET /last? "}
			for i, w := range want {
				code, body, _ := readResponse(t, br)
				if code != 200 || body != w {
					t.Fatalf("response %d: got %d %q; want 200 %q", i, code, body, w)
				}
			}
		})
	}
}

// TestNetpollSmuggling checks the client gets the status, then EOF.
func TestNetpollSmuggling(t *testing.T) {
	srv := startEcho(t, 5*time.Second, Limits{})
	for _, tc := range invalidCases {
		if tc.lim != (Limits{}) {
			continue
		}
		c, br := dial(t, srv.addr)
		if _, err := c.Write([]byte(caseInput(tc.name, tc.in) + crlf("GET /smuggled HTTP/1.1\nHost: h\n\n"))); err != nil {
			t.Fatal(err)
		}
		code, _, closing := readResponse(t, br)
		if code != tc.status || !closing {
			t.Errorf("%s: got %d (close %v); want %d and close", tc.name, code, closing, tc.status)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%s: got %v after the answer; want EOF", tc.name, err)
		}
	}
}

// TestNetpollSlowloris sends half a head and stops: the read timeout ends
// the connection, without an answer and without spinning.
func TestNetpollSlowloris(t *testing.T) {
	srv := startEcho(t, 200*time.Millisecond, Limits{})
	c, br := dial(t, srv.addr)
	start, cpu := time.Now(), cpuTime(t)
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\nX-Slow")); err != nil {
		t.Fatal(err)
	}
	_, err := br.ReadByte()
	if took := time.Since(start); err != io.EOF || took < 150*time.Millisecond || took > 3*time.Second {
		t.Fatalf("got %v after %v; want EOF after about 200ms", err, took)
	}
	if used := cpuTime(t) - cpu; used > 100*time.Millisecond {
		t.Errorf("the process used %v of CPU while the request waited: spinning", used)
	}
	if srv.readErrs.Load() != 1 {
		t.Errorf("got %d reader errors; want 1", srv.readErrs.Load())
	}
}

// TestNetpollExpectContinue waits for the 100 Continue before sending the
// body, as curl does.
func TestNetpollExpectContinue(t *testing.T) {
	srv := startEcho(t, 5*time.Second, Limits{})
	c, br := dial(t, srv.addr)
	if _, err := c.Write([]byte(crlf("PUT /up HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 5\n\n"))); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q, %v; want 100 Continue", line, err)
	}
	if blank, _ := br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("got %q after the interim status line", blank)
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := readResponse(t, br); code != 200 || body != "PUT /up? hello" {
		t.Fatalf("got %d %q", code, body)
	}
}

// TestNetpollConnectionClose: the server closes after answering a request
// that asked for it, and ignores anything pipelined behind it.
func TestNetpollConnectionClose(t *testing.T) {
	srv := startEcho(t, 5*time.Second, Limits{})
	c, br := dial(t, srv.addr)
	in := crlf("GET /1 HTTP/1.1\nHost: h\nConnection: close\n\nGET /2 HTTP/1.1\nHost: h\n\n")
	if _, err := c.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if code, body, closing := readResponse(t, br); code != 200 || body != "GET /1? " || !closing {
		t.Fatalf("got %d %q close %v", code, body, closing)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("got %v; want EOF", err)
	}
}

// TestNetpollBodyLimit: a Content-Length over the limit is refused before
// the body is sent.
func TestNetpollBodyLimit(t *testing.T) {
	srv := startEcho(t, 5*time.Second, Limits{MaxBodyBytes: 1 << 10})
	c, br := dial(t, srv.addr)
	if _, err := c.Write([]byte(crlf("POST / HTTP/1.1\nHost: h\nContent-Length: 1048576\n\n"))); err != nil {
		t.Fatal(err)
	}
	if code, _, closing := readResponse(t, br); code != 413 || !closing {
		t.Fatalf("got %d close %v; want 413 and close", code, closing)
	}
}

// cpuTime is the CPU time (user and system) used by this process.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLinkBufferNodes reads streams from a real netpoll LinkBuffer built
// of many small nodes, so that heads, bodies and chunk lines span nodes
// and netpoll's Peek and Next copy them (Peek into a scratch buffer the
// next read overwrites).
func TestLinkBufferNodes(t *testing.T) {
	streams := []string{pipeline, string(restPOST(3000)), string(chunkedPOST)}
	for _, tc := range invalidCases {
		if tc.lim == (Limits{}) {
			streams = append(streams, caseInput(tc.name, tc.in))
		}
	}
	for _, s := range streams {
		want := readAll(newSliceReader([]byte(s), 0), Limits{})
		for _, piece := range []int{1, 3, 7, 50, 1000} {
			lb := linkBuffer([]byte(s), piece)
			if got := readEach(lb, Limits{}, func() bool { return false }); !got.equal(want) {
				t.Fatalf("%.30q in %d-byte nodes: got %v; want %v", s, piece, got, want)
			}
		}
	}
}

// linkBuffer holds data in a netpoll LinkBuffer of piece-byte nodes.
func linkBuffer(data []byte, piece int) *netpoll.LinkBuffer {
	lb := netpoll.NewLinkBuffer()
	for i := 0; i < len(data); i += piece {
		node := netpoll.NewLinkBuffer()
		_, _ = node.WriteBinary(data[i:min(i+piece, len(data))])
		_ = node.Flush()
		_ = lb.Append(node)
	}
	_ = lb.Flush()
	return lb
}
