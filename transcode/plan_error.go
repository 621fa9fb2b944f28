package transcode

import (
	"errors"
	"strconv"
)

// Error is a client input error (HTTP 400): the JSON or the value of one
// field is not valid for the message. Its text is meant for the API user.
type Error struct {
	Offset int    // byte offset in the JSON input, or -1
	Field  string // JSON name of the field at fault, if any
	Msg    string
}

func (e *Error) Error() string {
	s := "transcode: "
	if e.Offset >= 0 {
		s += "offset " + strconv.Itoa(e.Offset) + ": "
	}
	return s + e.Msg
}

// ErrWire reports protobuf wire bytes that cannot be decoded (an upstream
// fault, not a client one).
var ErrWire = errors.New("transcode: invalid protobuf wire data")

// ErrOutput reports a message that has no JSON form (a Timestamp out of
// range, an Any of an unknown type, a Value NaN...).
var ErrOutput = errors.New("transcode: message has no JSON form")

// ErrDepth reports nesting deeper than Options.MaxDepth on the wire side.
var ErrDepth = errors.New("transcode: message nesting too deep")

// quoteRaw shortens raw JSON for an error message.
func quoteRaw(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}
