package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// connectClients are connect-go clients of the four methods for one
// protocol option set (gRPC-Web or gRPC, codec, compression).
type connectClients struct {
	unary, server, client, bidi *connect.Client[pb.EchoRequest, pb.EchoResponse]
}

func newConnectClients(hc *http.Client, base string, opts ...connect.ClientOption) *connectClients {
	opts = append(opts, connect.WithReadMaxBytes(64<<20))
	mk := func(m string) *connect.Client[pb.EchoRequest, pb.EchoResponse] {
		return connect.NewClient[pb.EchoRequest, pb.EchoResponse](hc, base+"/strait.test.v1.Echo/"+m, opts...)
	}
	return &connectClients{mk("Unary"), mk("ServerStream"), mk("ClientStream"), mk("Bidi")}
}

// connectSet holds clients for every codec and compression choice.
type connectSet [2][2]*connectClients // [json][gzip]

func newConnectSet(hc *http.Client, base string, proto connect.ClientOption) *connectSet {
	var s connectSet
	for j := range 2 {
		for z := range 2 {
			opts := []connect.ClientOption{proto}
			if j == 1 {
				opts = append(opts, connect.WithProtoJSON())
			}
			if z == 1 {
				opts = append(opts, connect.WithSendGzip())
			}
			s[j][z] = newConnectClients(hc, base, opts...)
		}
	}
	return &s
}

func (s *connectSet) get(json, gzip bool) *connectClients {
	return s[b2i(json)][b2i(gzip)]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setHeaders puts the case's metadata on a connect request, names in the
// case generated (HTTP/1.1 keeps it, HTTP/2 lowers it).
func setHeaders(h http.Header, c *fcase) {
	for k, vs := range c.header() {
		h[k] = vs
	}
	h[echo.RequestIDKey] = []string{c.id}
}

// connectCall makes c through connect-go. Bidi calls ping-pong.
func connectCall(ctx context.Context, cs *connectClients, c *fcase) *outcome {
	o := &outcome{}
	var err error
	switch c.k {
	case kindUnary:
		req := connect.NewRequest(c.reqs[0])
		setHeaders(req.Header(), c)
		var res *connect.Response[pb.EchoResponse]
		if res, err = cs.unary.CallUnary(ctx, req); err == nil {
			o.msgs = append(o.msgs, res.Msg)
			o.hdr, o.trl = lowerHeader(res.Header()), lowerHeader(res.Trailer())
		}
	case kindServer:
		req := connect.NewRequest(c.reqs[0])
		setHeaders(req.Header(), c)
		var s *connect.ServerStreamForClient[pb.EchoResponse]
		if s, err = cs.server.CallServerStream(ctx, req); err == nil {
			for s.Receive() {
				o.msgs = append(o.msgs, s.Msg())
			}
			err = s.Err()
			o.hdr, o.trl = lowerHeader(s.ResponseHeader()), lowerHeader(s.ResponseTrailer())
			_ = s.Close()
		}
	case kindClient:
		s := cs.client.CallClientStream(ctx)
		setHeaders(s.RequestHeader(), c)
		for _, r := range c.reqs {
			if err = s.Send(r); err != nil {
				break
			}
		}
		var res *connect.Response[pb.EchoResponse]
		if res, err = s.CloseAndReceive(); err == nil {
			o.msgs = append(o.msgs, res.Msg)
			o.hdr, o.trl = lowerHeader(res.Header()), lowerHeader(res.Trailer())
		}
	case kindBidi:
		s := cs.bidi.CallBidiStream(ctx)
		setHeaders(s.RequestHeader(), c)
		o.msgs, err = pingPong(s.Send, s.Receive, s.CloseRequest, c.reqs)
		o.hdr, o.trl = lowerHeader(s.ResponseHeader()), lowerHeader(s.ResponseTrailer())
		_ = s.CloseResponse()
	}
	if err != nil {
		connectError(o, err)
	}
	return o
}

// connectError takes code, message and details from a connect error; its
// metadata (headers and trailers together) fills hdr and trl where the
// call did not expose them apart.
func connectError(o *outcome, err error) {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		o.err = err
		return
	}
	o.code, o.msg = codes.Code(ce.Code()), ce.Message()
	if isClientSide(ce) {
		o.err = err // connect made this error itself: not an answer from the server
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		ed, ok := v.(*pb.ErrorDetail)
		if derr != nil || !ok {
			o.details = append(o.details, []byte(fmt.Sprintf("undecodable detail %s: %v", d.Type(), derr)))
			continue
		}
		o.details = append(o.details, ed.Data)
	}
	if len(o.hdr) == 0 && len(o.trl) == 0 {
		o.hdr = lowerHeader(ce.Meta())
		o.trl = o.hdr
	}
}

// isClientSide spots errors connect-go raises without a server status:
// a wrong content type, a missing status, a broken stream.
func isClientSide(ce *connect.Error) bool {
	m := ce.Message()
	for _, s := range []string{"invalid content-type", "unexpected EOF", "protocol error", "missing trailer", "bidi streams require", "unsupported content-type", "invalid message", "EOF"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
