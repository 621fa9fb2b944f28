// Package echo is the upstream of strait's end-to-end fidelity tests: a
// real grpc-go server for strait.test.v1.Echo (internal/echopb) on
// loopback. It is imported by tests only, and imports nothing of strait
// but the generated echopb.
//
// What it answers:
//   - Every request metadata key comes back as response header metadata
//     under the same name, and as trailer metadata under "t-"+name, values
//     in the order received (see EchoedKey). Pseudo-headers, the names
//     grpc-go reserves for itself (content-type, user-agent, te, grpc-*)
//     and those that describe the request's framing (content-length and
//     the hop-by-hop names) are not echoed.
//   - Headers are always sent before anything else, so no answer is a
//     trailers-only response (a failure after headers has trailers of its own).
//   - Messages: Unary echoes payload, text and id; ServerStream sends the
//     echo (index 0), then count messages of size bytes from Payload(seed, i,
//     size); ClientStream answers once, payloads concatenated and texts
//     joined with ","; Bidi echoes each message as it arrives.
//   - fail_code ends the call with that status and fail_message after the
//     messages; fail_details attaches google.rpc.Status details holding one
//     strait.test.v1.ErrorDetail with Details(seed).
//   - gzip (grpc's gzip compressor) and the "json" codec (protojson, for
//     application/grpc+json) are registered.
//
// Each call that carries an "x-req-id" header is recorded (metadata and
// messages as received) for Server.Take, and its headers as they arrived
// for Server.Headers.
package echo

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/straitgw/strait/internal/echopb"
)

// TrailerPrefix marks an echoed key in the trailers.
const TrailerPrefix = "t-"

// RequestIDKey is the metadata key a call is recorded under.
const RequestIDKey = "x-req-id"

// Server is a running echo upstream.
type Server struct {
	pb.UnimplementedEchoServer
	Addr string
	GRPC *grpc.Server
	rec  recorder
}

// Start runs an echo server on 127.0.0.1:0 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New()
	s.Addr = ln.Addr().String()
	s.GRPC = grpc.NewServer(grpc.MaxRecvMsgSize(64<<20), grpc.MaxSendMsgSize(64<<20), grpc.InTapHandle(s.rec.tap))
	pb.RegisterEchoServer(s.GRPC, s)
	go func() { _ = s.GRPC.Serve(ln) }()
	t.Cleanup(s.GRPC.Stop)
	return s
}

// New returns an echo service to register on a server of one's own.
func New() *Server {
	s := &Server{}
	s.rec.init()
	return s
}

// EchoedKey reports whether a request metadata key is echoed back.
func EchoedKey(k string) bool {
	switch {
	case k == "" || k[0] == ':' || strings.HasPrefix(k, "grpc-"):
		return false
	}
	switch k {
	case "content-type", "user-agent", "te", "content-length", "connection", "keep-alive",
		"proxy-connection", "transfer-encoding", "upgrade", "host":
		return false
	}
	return true
}

// echoMD sends the request metadata back as headers and sets it, renamed,
// as trailers.
func echoMD(ctx context.Context) (metadata.MD, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	h, tr := metadata.MD{}, metadata.MD{}
	for k, vs := range md {
		if EchoedKey(k) {
			h[k] = vs
			tr[TrailerPrefix+k] = vs
		}
	}
	if err := grpc.SetTrailer(ctx, tr); err != nil {
		return md, err
	}
	return md, grpc.SendHeader(ctx, h)
}

// begin waits as asked, then echoes the metadata.
func begin(ctx context.Context, first *pb.EchoRequest) (metadata.MD, error) {
	if first != nil && first.SleepMs > 0 {
		select {
		case <-time.After(time.Duration(first.SleepMs) * time.Millisecond):
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return echoMD(ctx)
}

// failure is the status a request asks for, nil for OK.
func failure(r *pb.EchoRequest) error {
	if r == nil || r.FailCode == 0 {
		return nil
	}
	st := status.New(codes.Code(r.FailCode), r.FailMessage)
	if r.FailDetails {
		var err error
		if st, err = st.WithDetails(&pb.ErrorDetail{Data: Details(r.Seed)}); err != nil {
			return status.Error(codes.Internal, err.Error())
		}
	}
	return st.Err()
}

func (s *Server) Unary(ctx context.Context, r *pb.EchoRequest) (*pb.EchoResponse, error) {
	md, err := begin(ctx, r)
	defer s.rec.put(md, "Unary", r)
	if err != nil {
		return nil, err
	}
	if err := failure(r); err != nil {
		return nil, err
	}
	return &pb.EchoResponse{Payload: r.Payload, Text: r.Text, Id: r.Id}, nil
}

func (s *Server) ServerStream(r *pb.EchoRequest, ss grpc.ServerStreamingServer[pb.EchoResponse]) error {
	md, err := begin(ss.Context(), r)
	defer s.rec.put(md, "ServerStream", r)
	if err != nil {
		return err
	}
	if err := ss.Send(&pb.EchoResponse{Payload: r.Payload, Text: r.Text, Id: r.Id}); err != nil {
		return err
	}
	for i := int32(1); i <= r.Count; i++ {
		m := &pb.EchoResponse{Payload: Payload(r.Seed, int(i), int(r.Size)), Index: i}
		if err := ss.Send(m); err != nil {
			return err
		}
	}
	return failure(r)
}

func (s *Server) ClientStream(ss grpc.ClientStreamingServer[pb.EchoRequest, pb.EchoResponse]) error {
	var msgs []*pb.EchoRequest
	md, _ := metadata.FromIncomingContext(ss.Context())
	defer func() { s.rec.put(md, "ClientStream", msgs...) }()
	for {
		r, err := ss.Recv()
		if err != nil {
			if !isEOF(err) {
				return err
			}
			break
		}
		msgs = append(msgs, r)
	}
	var first *pb.EchoRequest
	if len(msgs) > 0 {
		first = msgs[0]
	}
	if _, err := begin(ss.Context(), first); err != nil {
		return err
	}
	if err := failure(first); err != nil {
		return err
	}
	resp := &pb.EchoResponse{Received: int32(len(msgs))}
	texts := make([]string, len(msgs))
	for i, m := range msgs {
		resp.Payload = append(resp.Payload, m.Payload...)
		texts[i] = m.Text
	}
	resp.Text = strings.Join(texts, ",")
	return ss.SendAndClose(resp)
}

func (s *Server) Bidi(ss grpc.BidiStreamingServer[pb.EchoRequest, pb.EchoResponse]) error {
	var msgs []*pb.EchoRequest
	md, _ := metadata.FromIncomingContext(ss.Context())
	defer func() { s.rec.put(md, "Bidi", msgs...) }()
	var first *pb.EchoRequest
	for i := int32(0); ; i++ {
		r, err := ss.Recv()
		if err != nil {
			if !isEOF(err) {
				return err
			}
			break
		}
		msgs = append(msgs, r)
		if first == nil {
			first = r
			if _, err := begin(ss.Context(), first); err != nil {
				return err
			}
		}
		if err := ss.Send(&pb.EchoResponse{Payload: r.Payload, Text: r.Text, Id: r.Id, Index: i}); err != nil {
			return err
		}
	}
	if first == nil { // no message: headers still go first
		if _, err := begin(ss.Context(), nil); err != nil {
			return err
		}
	}
	return failure(first)
}
