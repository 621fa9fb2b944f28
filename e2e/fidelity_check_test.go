package e2e

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// upstreamExtra is the one allowlist of request metadata an upstream may
// see that the test did not set: what the gateway adds for every request,
// and what the client libraries add on their own. Every other key that
// arrives upstream must be one the test sent, with exactly its values in
// its order.
var upstreamExtra = map[string]string{
	":authority":           "HTTP/2 pseudo-header (grpc-go lists it in metadata)",
	"content-type":         "application/grpc[+codec], set by the gateway for its upstream call",
	"user-agent":           "the client's, or the gateway's",
	"grpc-accept-encoding": "compressors the client or gateway accepts",
	"accept-encoding":      "net/http and connect-go add it; a gateway may drop or forward it",
	"content-length":       "connect-go sends it with unary requests; legal in HTTP/2",
	"x-user-agent":         "connect-go's gRPC-Web user agent",
	"x-grpc-web":           "gRPC-Web clients mark themselves with it",
	"accept":               "gRPC-Web clients send the response type they read",
	"x-forwarded-for":      "gateway: client address",
	"x-forwarded-proto":    "gateway: client scheme",
	"x-forwarded-host":     "gateway: client host",
	"x-request-id":         "gateway: request id",
	"traceparent":          "gateway: W3C trace context",
	"tracestate":           "gateway: W3C trace context",
}

// outcome is what one call got back, in one shape for every protocol.
// Header names are lower-case and -bin values decoded. For REST unary and
// connect-go unary errors, headers and trailers come as one set: hdr and
// trl are then the same map.
type outcome struct {
	status  int // HTTP status, where the client sees one
	hdr     map[string][]string
	trl     map[string][]string
	msgs    []*pb.EchoResponse
	code    codes.Code
	msg     string
	details [][]byte // ErrorDetail.Data of each detail
	err     error    // the call did not complete as a gRPC call should
}

// expected is what the echo server answers to c.
func (c *fcase) expected() (msgs []*pb.EchoResponse, code codes.Code, msg string, details [][]byte) {
	var first *pb.EchoRequest
	if len(c.reqs) > 0 {
		first = c.reqs[0]
	}
	if first != nil && first.FailCode != 0 {
		code, msg = codes.Code(first.FailCode), first.FailMessage
		if first.FailDetails {
			details = [][]byte{echo.Details(first.Seed)}
		}
	}
	switch c.k {
	case kindUnary:
		if code == 0 {
			msgs = append(msgs, &pb.EchoResponse{Payload: first.Payload, Text: first.Text, Id: first.Id})
		}
	case kindServer:
		msgs = append(msgs, &pb.EchoResponse{Payload: first.Payload, Text: first.Text, Id: first.Id})
		for i := int32(1); i <= first.Count; i++ {
			msgs = append(msgs, &pb.EchoResponse{Payload: echo.Payload(first.Seed, int(i), int(first.Size)), Index: i})
		}
	case kindClient:
		if code == 0 {
			m := &pb.EchoResponse{Received: int32(len(c.reqs))}
			texts := make([]string, len(c.reqs))
			for i, r := range c.reqs {
				m.Payload = append(m.Payload, r.Payload...)
				texts[i] = r.Text
			}
			m.Text = strings.Join(texts, ",")
			msgs = append(msgs, m)
		}
	case kindBidi:
		for i, r := range c.reqs {
			msgs = append(msgs, &pb.EchoResponse{Payload: r.Payload, Text: r.Text, Id: r.Id, Index: int32(i)})
		}
	}
	return msgs, code, msg, details
}

// sentMD is the metadata the test sent: lower-case names, values in order
// (-bin decoded), and the request id.
func (c *fcase) sentMD() map[string][]string {
	m := map[string][]string{echo.RequestIDKey: {c.id}}
	for _, f := range c.md {
		m[f.key()] = append(m[f.key()], f.value)
	}
	return m
}

// checker collects mismatches of one call as "class: detail".
type checker struct {
	c    *fcase
	errs []string
}

func (k *checker) addf(class, format string, args ...any) {
	k.errs = append(k.errs, class+": "+fmt.Sprintf(format, args...))
}

// check compares everything a call got back, and what the upstream
// received, with what the test sent. A call that failed, or ended with
// another status, has its messages and echoed values left unchecked (they
// would only repeat that one failure), but never the foreign-key check: a
// value from another call is the worst mismatch there is.
func (k *checker) check(o *outcome, rec *echo.Record) {
	c := k.c
	sent := c.sentMD()
	k.foreign("response header", o.hdr, sent, "")
	k.foreign("response trailer", o.trl, sent, echo.TrailerPrefix)
	wantMsgs, code, msg, details := c.expected()
	failed := o.err != nil || o.code != code || o.msg != msg
	if rec != nil || !failed { // a failed call may never have gone upstream
		k.upstream(rec, sent)
	}
	switch {
	case o.err != nil:
		k.addf("call error", "%v", o.err)
	case failed:
		k.addf("status", "got %v %q; want %v %q", o.code, short(o.msg), code, short(msg))
	default:
		if !slices.EqualFunc(o.details, details, slices.Equal) {
			k.addf("details", "got %d details %x; want %x", len(o.details), o.details, details)
		}
		k.messages(o.msgs, wantMsgs)
		k.metadata("response header", o.hdr, sent, "")
		k.metadata("response trailer", o.trl, sent, echo.TrailerPrefix)
	}
}

func (k *checker) messages(got, want []*pb.EchoResponse) {
	if len(got) != len(want) {
		k.addf("message count", "got %d messages; want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !proto.Equal(got[i], want[i]) {
			k.addf("message bytes", "message %d: got %s; want %s", i, describe(got[i]), describe(want[i]))
			return
		}
	}
}

// metadata checks the echoed keys in one response section: each sent key
// under prefix with exactly the sent values.
func (k *checker) metadata(where string, got, sent map[string][]string, prefix string) {
	for name, vs := range sent {
		if g := got[prefix+name]; !slices.Equal(g, vs) {
			k.addf(where+" value", "%s: got %s; want %s", prefix+name, shortList(g), shortList(vs))
		}
	}
}

// foreign finds test keys under prefix that this call never sent: another
// call's metadata.
func (k *checker) foreign(where string, got, sent map[string][]string, prefix string) {
	for name, vs := range got {
		n, ok := strings.CutPrefix(name, prefix)
		if ok && isTestKey(n) && sent[n] == nil {
			k.addf(where+" foreign", "%s: %s was never sent on this call", name, shortList(vs))
		}
	}
}

func (k *checker) upstream(rec *echo.Record, sent map[string][]string) {
	c := k.c
	if rec == nil {
		k.addf("upstream missing", "the echo server never finished this call")
		return
	}
	if rec.Method != c.k.method() {
		k.addf("upstream method", "got %s; want %s", rec.Method, c.k.method())
	}
	for name, vs := range sent {
		if g := rec.MD[name]; !slices.Equal(g, vs) {
			k.addf("upstream metadata value", "%s: got %s; want %s", name, shortList(g), shortList(vs))
		}
	}
	for name, vs := range rec.MD {
		if sent[name] == nil && upstreamExtra[name] == "" {
			k.addf("upstream metadata foreign", "%s: %s was not sent and is not on the allowlist", name, shortList(vs))
		}
	}
	if len(rec.Msgs) != len(c.reqs) {
		k.addf("upstream message count", "got %d; want %d", len(rec.Msgs), len(c.reqs))
		return
	}
	for i, m := range rec.Msgs {
		if !proto.Equal(m, c.reqs[i]) {
			k.addf("upstream message bytes", "message %d differs: payload %d bytes; want %d", i, len(m.Payload), len(c.reqs[i].Payload))
			return
		}
	}
}

// isTestKey: names only tests set (another call's would show up here).
func isTestKey(n string) bool {
	return strings.HasPrefix(n, "x-f-") || n == echo.RequestIDKey || n == "x-client" || n == "x-token"
}

func describe(m *pb.EchoResponse) string {
	return fmt.Sprintf("{payload %d bytes %s, text %s, id %q, index %d, received %d}",
		len(m.Payload), short(string(m.Payload)), short(m.Text), m.Id, m.Index, m.Received)
}

func short(s string) string {
	if len(s) <= 100 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…(%d bytes)", s[:100], len(s))
}

func shortList(vs []string) string {
	if vs == nil {
		return "(none)"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = short(v)
	}
	return "[" + strings.Join(out, " ") + "]"
}
