package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// dialGRPC is a grpc-go client over h2c that accepts large messages.
func dialGRPC(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
}

// grpcCall makes c with grpc-go; bidi calls ping-pong (one response read
// before the next request is sent), so a proxy that holds requests back
// until the client is done cannot pass.
func grpcCall(ctx context.Context, cc *grpc.ClientConn, c *fcase) *outcome {
	md := metadata.MD{echo.RequestIDKey: {c.id}}
	for _, f := range c.md {
		md.Append(f.key(), f.value) // grpc-go base64s -bin values itself
	}
	ctx = metadata.NewOutgoingContext(ctx, md)
	var opts []grpc.CallOption
	if c.json {
		opts = append(opts, grpc.CallContentSubtype("json"))
	}
	if c.gzip {
		opts = append(opts, grpc.UseCompressor(gzip.Name))
	}
	cl := pb.NewEchoClient(cc)
	o := &outcome{}
	var hdr, trl metadata.MD
	var err error
	switch c.k {
	case kindUnary:
		var r *pb.EchoResponse
		r, err = cl.Unary(ctx, c.reqs[0], append(opts, grpc.Header(&hdr), grpc.Trailer(&trl))...)
		if err == nil {
			o.msgs = append(o.msgs, r)
		}
	case kindServer:
		var s grpc.ServerStreamingClient[pb.EchoResponse]
		if s, err = cl.ServerStream(ctx, c.reqs[0], opts...); err == nil {
			o.msgs, err = recvAll(s.Recv)
			hdr, _ = s.Header()
			trl = s.Trailer()
		}
	case kindClient:
		var s grpc.ClientStreamingClient[pb.EchoRequest, pb.EchoResponse]
		if s, err = cl.ClientStream(ctx, opts...); err == nil {
			for _, r := range c.reqs {
				if err = s.Send(r); err != nil {
					break
				}
			}
			var r *pb.EchoResponse
			if r, err = s.CloseAndRecv(); err == nil {
				o.msgs = append(o.msgs, r)
			}
			hdr, _ = s.Header()
			trl = s.Trailer()
		}
	case kindBidi:
		var s grpc.BidiStreamingClient[pb.EchoRequest, pb.EchoResponse]
		if s, err = cl.Bidi(ctx, opts...); err == nil {
			o.msgs, err = pingPong(s.Send, s.Recv, s.CloseSend, c.reqs)
			hdr, _ = s.Header()
			trl = s.Trailer()
		}
	}
	o.hdr, o.trl = hdr, trl
	if err != nil {
		st := status.Convert(err)
		o.code, o.msg = st.Code(), st.Message()
		for _, d := range st.Details() {
			if ed, ok := d.(*pb.ErrorDetail); ok {
				o.details = append(o.details, ed.Data)
			} else {
				o.details = append(o.details, []byte(fmt.Sprintf("unexpected detail %T", d)))
			}
		}
	}
	return o
}

// recvAll reads a stream to its end; the error is nil at a clean EOF.
func recvAll(recv func() (*pb.EchoResponse, error)) ([]*pb.EchoResponse, error) {
	var msgs []*pb.EchoResponse
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

// pingPong sends each request and waits for its echo before the next.
func pingPong(send func(*pb.EchoRequest) error, recv func() (*pb.EchoResponse, error), closeSend func() error, reqs []*pb.EchoRequest) ([]*pb.EchoResponse, error) {
	var msgs []*pb.EchoResponse
	for _, r := range reqs {
		if err := send(r); err != nil {
			if errors.Is(err, io.EOF) { // the server ended the call: recv says why
				break
			}
			return msgs, err
		}
		m, err := recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return msgs, err
		}
		msgs = append(msgs, m)
	}
	if err := closeSend(); err != nil {
		return msgs, err
	}
	rest, err := recvAll(recv)
	return append(msgs, rest...), err
}
