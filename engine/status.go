package engine

import (
	"errors"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
)

// streamStatus is the status of an upstream stream that ended without
// trailers. RST_STREAM codes map as gRPC over HTTP/2 says; a CANCEL at or
// after the deadline is the deadline (the upstream enforces it too and
// may reset a moment before our own timer fires); a panic h2 recovered
// from is INTERNAL; anything else (the connection lost) is UNAVAILABLE.
func streamStatus(err error, deadline time.Time) rpc.Status {
	var pe *h2.PanicError
	if errors.As(err, &pe) {
		return rpc.New(rpc.CodeInternal, "gateway error on the upstream connection")
	}
	var se h2.StreamError
	if !errors.As(err, &se) {
		return rpc.New(rpc.CodeUnavailable, "upstream: "+err.Error())
	}
	msg := "upstream reset the stream: " + se.Code.String()
	switch se.Code {
	case h2.ErrCodeCancel:
		if !deadline.IsZero() && time.Until(deadline) < 10*time.Millisecond {
			return rpc.New(rpc.CodeDeadlineExceeded, "deadline exceeded")
		}
		return rpc.New(rpc.CodeCanceled, msg)
	case h2.ErrCodeRefusedStream:
		return rpc.New(rpc.CodeUnavailable, msg)
	case h2.ErrCodeEnhanceYourCalm:
		return rpc.New(rpc.CodeResourceExhausted, msg)
	case h2.ErrCodeInadequateSecurity:
		return rpc.New(rpc.CodePermissionDenied, msg)
	}
	return rpc.New(rpc.CodeInternal, msg)
}
