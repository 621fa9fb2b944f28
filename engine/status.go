package engine

import (
	"errors"
	"time"

	"github.com/straitgw/strait/h2"
)

// streamStatus is the gRPC status of an upstream stream that ended without
// trailers: RST_STREAM codes map as gRPC over HTTP/2 says, and a CANCEL at
// or after the deadline is the deadline (the upstream enforces it too and
// may reset a moment before our own timer fires).
func streamStatus(err error, deadline time.Time) (uint32, string) {
	var se h2.StreamError
	if !errors.As(err, &se) {
		return 14, "upstream: " + err.Error()
	}
	msg := "upstream reset the stream: " + se.Code.String()
	switch se.Code {
	case h2.ErrCodeCancel:
		if !deadline.IsZero() && time.Until(deadline) < 10*time.Millisecond {
			return 4, "deadline exceeded"
		}
		return 1, msg
	case h2.ErrCodeRefusedStream:
		return 14, msg
	case h2.ErrCodeEnhanceYourCalm:
		return 8, msg
	case h2.ErrCodeInadequateSecurity:
		return 7, msg
	}
	return 13, msg
}
