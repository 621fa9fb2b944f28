package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// rawTransport is a hand-made client: native gRPC over h2c, or gRPC-Web
// binary or text over HTTP/1.1 or h2c.
type rawTransport struct {
	name     string
	h2       bool
	web      bool
	text     bool
	wantType string // response content type family
}

var rawTransports = []rawTransport{
	{"grpc-h2", true, false, false, "application/grpc"},
	{"web-h1", false, true, false, "application/grpc-web"},
	{"web-h2", true, true, false, "application/grpc-web"},
	{"text-h1", false, true, true, "application/grpc-web-text"},
	{"text-h2", true, true, true, "application/grpc-web-text"},
}

func (rt rawTransport) client() *http.Client {
	if rt.h2 {
		return h2cClient()
	}
	return h1Client()
}

// call posts frames to path with content type ctype and the given
// grpc-timeout ("" for none), and reads the answer as this transport's
// clients do.
func (rt rawTransport) call(ctx context.Context, hc *http.Client, addr, path, ctype, timeout string, frames [][]byte, json bool) *outcome {
	return rt.callWith(ctx, hc, http.Header{}, addr, path, ctype, timeout, frames, json)
}

// callWith is call with request headers of the caller's.
func (rt rawTransport) callWith(ctx context.Context, hc *http.Client, h http.Header, addr, path, ctype, timeout string, frames [][]byte, json bool) *outcome {
	if timeout != "" {
		h["Grpc-Timeout"] = []string{timeout}
	}
	url := "http://" + addr + path
	if rt.web {
		h["X-Grpc-Web"] = []string{"1"}
		codec := pick(json, "json", "proto")
		if !strings.HasSuffix(ctype, "+proto") && !strings.HasSuffix(ctype, "+json") {
			codec = "" // a codec the gateway cannot serve: any answer type
		}
		return webDo(ctx, hc, url, ctype, h, frames, rt.text, false, codec)
	}
	return grpcDo(ctx, hc, url, ctype, h, frames, json)
}

// ctype is the request content type for a codec ("proto", "json", or
// any other subtype).
func (rt rawTransport) ctype(codec string) string {
	return rt.wantType + "+" + codec
}

// grpcDo is a native gRPC call by hand over h2c: the whole request body,
// then messages and trailers (or a trailers-only answer).
func grpcDo(ctx context.Context, hc *http.Client, url, ctype string, h http.Header, frames [][]byte, json bool) *outcome {
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(string(joinFrames(frames))))
	if err != nil {
		return &outcome{err: err}
	}
	req.Header = h
	h["Content-Type"] = []string{ctype}
	h["Te"] = []string{"trailers"}
	resp, err := hc.Do(req)
	if err != nil {
		return &outcome{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	o := &outcome{status: resp.StatusCode, hdr: lowerHeader(resp.Header)}
	if err != nil {
		o.err = err
		return o
	}
	if resp.StatusCode != 200 {
		o.err = fmt.Errorf("HTTP status %d (content-type %q)", resp.StatusCode, resp.Header.Get("Content-Type"))
		return o
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/grpc") {
		o.err = fmt.Errorf("response content-type %q", ct)
		return o
	}
	// Messages are framed as in gRPC-Web, without a trailer frame.
	readWebBody(o, resp.Header, data, false, json)
	if o.err != nil && o.err.Error() == "no trailer frame" {
		o.err = nil
		o.trl = lowerHeader(resp.Trailer)
		if len(o.msgs) == 0 && len(o.trl) == 0 { // trailers-only
			o.trl = o.hdr
		}
		if err := o.takeStatus(); err != nil {
			o.err = err
		}
	}
	return o
}

func joinFrames(frames [][]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

func frame(t *testing.T, m *pb.EchoRequest, json bool) []byte {
	t.Helper()
	f, err := webFrame(m, json, false)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGatewayErrorsInRequestType: calls the gateway cannot route (no
// such service, method or gRPC path) are answered in the request's own
// protocol and codec, with HTTP 200 and grpc-status UNIMPLEMENTED, as
// every gRPC and gRPC-Web client expects, never a JSON body.
func TestGatewayErrorsInRequestType(t *testing.T) {
	g := startEchoGateway(t, 1, 1)
	paths := map[string]string{
		"unknown-service": "/strait.test.v1.Nope/Unary",
		"unknown-method":  "/strait.test.v1.Echo/Nope",
		"no-method":       "/strait.test.v1.Echo",
		"too-deep":        "/strait.test.v1.Echo/Unary/more",
	}
	for _, rt := range rawTransports {
		hc := rt.client()
		for _, codec := range []string{"proto", "json"} {
			for name, path := range paths {
				t.Run(rt.name+"/"+codec+"/"+name, func(t *testing.T) {
					t.Parallel()
					ctx, cancel := context.WithTimeout(context.Background(), matrixCallTimeout)
					defer cancel()
					json := codec == "json"
					o := rt.call(ctx, hc, g.Listen, path, rt.ctype(codec), "", [][]byte{frame(t, &pb.EchoRequest{Text: "x"}, json)}, json)
					if o.err != nil {
						t.Fatalf("%s with %s: %v", path, rt.ctype(codec), o.err)
					}
					if o.code != codes.Unimplemented {
						t.Errorf("%s: got %v %q; want %v", path, o.code, o.msg, codes.Unimplemented)
					}
				})
			}
		}
	}
}

// TestDeadlineExceeded: a call whose grpc-timeout passes while the
// upstream sleeps ends with DEADLINE_EXCEEDED soon after the deadline, on
// every transport and streaming kind; it never hangs.
func TestDeadlineExceeded(t *testing.T) {
	g := startEchoGateway(t, 1, 1)
	for _, rt := range rawTransports {
		hc := rt.client()
		for k := range numKinds {
			t.Run(rt.name+"/"+k.String(), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), matrixCallTimeout)
				defer cancel()
				start := time.Now()
				f := frame(t, &pb.EchoRequest{Text: "slow", SleepMs: 5000}, false)
				o := rt.call(ctx, hc, g.Listen, "/strait.test.v1.Echo/"+k.method(), rt.ctype("proto"), "300m", [][]byte{f}, false)
				took := time.Since(start)
				if o.err != nil {
					t.Fatalf("after %v: %v", took, o.err)
				}
				if o.code != codes.DeadlineExceeded || took > 3*time.Second {
					t.Errorf("got %v %q after %v; want %v within 3s", o.code, o.msg, took, codes.DeadlineExceeded)
				}
			})
		}
	}
}

// TestUnservableContentType: a gRPC-Web or gRPC request in a codec the
// gateway does not know gets an answer its client can read: HTTP 200, the
// protocol's content type and a grpc-status, never a JSON body. The
// gateway may refuse the call (any non-OK status), or relay it to an
// upstream that knows the codec; an OK answer must then keep the
// request's content type, or the client cannot decode its messages.
func TestUnservableContentType(t *testing.T) {
	g := startEchoGateway(t, 1, 1)
	thrift := []byte{0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'x', 0x00} // a Thrift struct, not protobuf
	for _, rt := range rawTransports {
		hc := rt.client()
		for _, codec := range []string{"thrift", "xml"} {
			t.Run(rt.name+"/"+codec, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), matrixCallTimeout)
				defer cancel()
				f := append([]byte{0, 0, 0, 0, byte(len(thrift))}, thrift...)
				h := http.Header{echo.RequestIDKey: {t.Name()}}
				o := rt.callWith(ctx, hc, h, g.Listen, "/strait.test.v1.Echo/Unary", rt.ctype(codec), "", [][]byte{f}, false)
				// Relayed or not, the bytes must never reach the upstream
				// labelled as protobuf.
				if md := g.Echo[0].Headers(t.Name()); md != nil {
					if got, want := md["content-type"], "application/grpc+"+codec; len(got) != 1 || got[0] != want {
						t.Errorf("%s: upstream content-type %q; want %q", rt.ctype(codec), got, want)
					}
				}
				if o.err != nil {
					t.Fatalf("%s: %v", rt.ctype(codec), o.err)
				}
				ct := firstValue(o.hdr, "content-type")
				if !strings.HasPrefix(ct, rt.wantType) {
					t.Fatalf("%s: response content-type %q; want %s[+codec]", rt.ctype(codec), ct, rt.wantType)
				}
				if o.code == codes.OK && ct != rt.ctype(codec) {
					t.Errorf("%s: OK with %d messages in content-type %q; want a non-OK status, or the request's content type",
						rt.ctype(codec), len(o.msgs), ct)
				}
				t.Logf("%s: %v %q, content-type %q", rt.ctype(codec), o.code, o.msg, ct)
			})
		}
	}
}

func firstValue(m map[string][]string, k string) string {
	if v := m[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}
