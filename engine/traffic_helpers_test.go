package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/testutil"
	"github.com/straitgw/strait/rpc"
)

// getShelf1 is bookstore.v1.GetShelfRequest{shelf: 1} on the wire.
var getShelf1 = []byte{0x08, 0x01}

// outcome is what a client saw of one GetShelf call, in any protocol.
type outcome struct {
	code   rpc.Code
	msg    string
	status int         // HTTP status: REST's, 200 for gRPC and gRPC-Web
	header http.Header // response headers (gRPC: headers and trailers)
	body   string      // REST's body
}

// caller makes one GetShelf call with request headers hdr; a
// "grpc-timeout" there is the call's deadline, as its protocol carries
// it (gRPC clients from their context). A caller may run on a goroutine
// of its own: it reports a call with no answer with t.Errorf.
type caller func(t *testing.T, hdr map[string]string) outcome

// protocols are the clients each traffic test runs through: REST over
// HTTP/1.1 (a raw client) and h2 (x/net), native gRPC (grpc-go), and
// gRPC-Web (connect-go).
func protocols(t *testing.T, addr string) []struct {
	name string
	call caller
} {
	return []struct {
		name string
		call caller
	}{
		{"rest-h1", restH1Caller(addr)},
		{"rest-h2", restH2Caller(addr)},
		{"grpc", grpcCaller(t, addr)},
		{"grpc-web", webCaller(addr)},
	}
}

// restH1Caller calls on a fresh HTTP/1.1 connection each time, so calls
// may run at once.
func restH1Caller(addr string) caller {
	return func(t *testing.T, hdr map[string]string) outcome {
		var b strings.Builder
		b.WriteString("GET /v1/shelves/1 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n")
		for k, v := range hdr {
			b.WriteString(k + ": " + v + "\r\n")
		}
		b.WriteString("\r\n")
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return failed(t, "h1 REST", err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, b.String()); err != nil {
			return failed(t, "h1 REST", err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return failed(t, "h1 REST", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return restOutcome(resp.StatusCode, resp.Header, string(body))
	}
}

// failed reports a call that got no answer. Callers may run on
// goroutines of their own, so it reports with Errorf, never Fatal.
func failed(t *testing.T, what string, err error) outcome {
	t.Errorf("%s: %v", what, err)
	return outcome{code: rpc.CodeUnknown, msg: err.Error(), header: http.Header{}}
}

func restH2Caller(addr string) caller {
	hc := testutil.H2CClient()
	return func(t *testing.T, hdr map[string]string) outcome {
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/shelves/1", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return failed(t, "h2 REST", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return restOutcome(resp.StatusCode, resp.Header, string(body))
	}
}

func restOutcome(st int, h http.Header, body string) outcome {
	o := outcome{status: st, header: h, body: body}
	if st == 200 {
		return o
	}
	var e struct {
		Code    rpc.Code `json:"code"`
		Message string   `json:"message"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	o.code, o.msg = e.Code, e.Message
	return o
}

func grpcCaller(t *testing.T, addr string) caller {
	cc := grpcDial(t, addr)
	return func(t *testing.T, hdr map[string]string) outcome {
		ctx, cancel := callContext(hdr)
		defer cancel()
		for k, v := range hdr {
			if k != "grpc-timeout" {
				ctx = metadata.AppendToOutgoingContext(ctx, k, v)
			}
		}
		var head, trail metadata.MD
		_, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/GetShelf", getShelf1, grpc.Header(&head), grpc.Trailer(&trail))
		st := status.Convert(err)
		o := outcome{code: rpc.Code(st.Code()), msg: st.Message(), status: 200, header: http.Header{}}
		for _, md := range []metadata.MD{head, trail} {
			for k, vs := range md {
				for _, v := range vs {
					o.header.Add(k, v)
				}
			}
		}
		return o
	}
}

// connectRaw is a connect-go codec that passes message bytes through.
type connectRaw struct{}

type rawMsg []byte

func (connectRaw) Name() string { return "proto" }
func (connectRaw) Marshal(v any) ([]byte, error) {
	return *v.(*rawMsg), nil
}
func (connectRaw) Unmarshal(b []byte, v any) error {
	*v.(*rawMsg) = append((*v.(*rawMsg))[:0], b...)
	return nil
}

func webCaller(addr string) caller {
	c := connect.NewClient[rawMsg, rawMsg](http.DefaultClient, "http://"+addr+"/bookstore.v1.Bookstore/GetShelf",
		connect.WithGRPCWeb(), connect.WithCodec(connectRaw{}))
	return func(t *testing.T, hdr map[string]string) outcome {
		ctx, cancel := callContext(hdr)
		defer cancel()
		msg := rawMsg(getShelf1)
		req := connect.NewRequest(&msg)
		for k, v := range hdr {
			if k != "grpc-timeout" {
				req.Header().Set(k, v)
			}
		}
		resp, err := c.CallUnary(ctx, req)
		if err == nil {
			return outcome{status: 200, header: resp.Header()}
		}
		var ce *connect.Error
		if !errors.As(err, &ce) {
			return failed(t, "gRPC-Web", err)
		}
		return outcome{code: rpc.Code(ce.Code()), msg: ce.Message(), status: 200, header: ce.Meta()}
	}
}

// callContext bounds a gRPC client's call: by hdr's grpc-timeout in
// milliseconds ("300m"), else 20s.
func callContext(hdr map[string]string) (context.Context, context.CancelFunc) {
	d := 20 * time.Second
	if ms, err := strconv.Atoi(strings.TrimSuffix(hdr["grpc-timeout"], "m")); err == nil {
		d = time.Duration(ms) * time.Millisecond
	}
	return context.WithTimeout(context.Background(), d)
}
