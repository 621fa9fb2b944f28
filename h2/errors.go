package h2

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrCode is an HTTP/2 error code carried by RST_STREAM and GOAWAY
// (RFC 9113 §7).
type ErrCode uint32

// Error codes of RFC 9113 §7.
const (
	ErrCodeNo                 ErrCode = 0x0
	ErrCodeProtocol           ErrCode = 0x1
	ErrCodeInternal           ErrCode = 0x2
	ErrCodeFlowControl        ErrCode = 0x3
	ErrCodeSettingsTimeout    ErrCode = 0x4
	ErrCodeStreamClosed       ErrCode = 0x5
	ErrCodeFrameSize          ErrCode = 0x6
	ErrCodeRefusedStream      ErrCode = 0x7
	ErrCodeCancel             ErrCode = 0x8
	ErrCodeCompression        ErrCode = 0x9
	ErrCodeConnect            ErrCode = 0xa
	ErrCodeEnhanceYourCalm    ErrCode = 0xb
	ErrCodeInadequateSecurity ErrCode = 0xc
	ErrCodeHTTP11Required     ErrCode = 0xd
)

var errCodeNames = [...]string{
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
	"CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
	"INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
}

func (e ErrCode) String() string {
	if int(e) < len(errCodeNames) {
		return errCodeNames[e]
	}
	return "ERR_0x" + strconv.FormatUint(uint64(e), 16)
}

// Sentinel errors. Protocol violations are wrapped in StreamError or
// ConnError, whose type says how much of the connection they break.
var (
	ErrNoStreamSlot      = errors.New("h2: no free stream slot")
	ErrConnClosing       = errors.New("h2: connection closing")
	ErrConnClosed        = errors.New("h2: connection closed")
	ErrStreamClosed      = errors.New("h2: stream closed")
	ErrBufferFull        = errors.New("h2: stream send buffer full")
	ErrFrameTooLarge     = errors.New("h2: frame too large")
	ErrBadPreface        = errors.New("h2: bad connection preface")
	ErrBadFrame          = errors.New("h2: malformed frame")
	ErrBadPadding        = errors.New("h2: bad padding")
	ErrBadHeader         = errors.New("h2: malformed header field")
	ErrHeaderListTooLong = errors.New("h2: header list too large")
	ErrFlowControl       = errors.New("h2: flow control window exceeded")
	ErrBadStreamID       = errors.New("h2: unexpected stream id")
	ErrBadState          = errors.New("h2: frame not allowed in stream state")
	ErrBadContentLength  = errors.New("h2: body length differs from content-length")
	ErrAbuse             = errors.New("h2: peer exceeded a rate limit")
	ErrSettingsTimeout   = errors.New("h2: settings not acknowledged in time")
	ErrPingTimeout       = errors.New("h2: keepalive ping not answered in time")
	ErrStalled           = errors.New("h2: peer stopped making progress")
)

// StreamError ends one stream with RST_STREAM (RFC 9113 §5.4.2).
type StreamError struct {
	StreamID uint32
	Code     ErrCode
	Cause    error
}

func (e StreamError) Error() string {
	s := "h2: stream " + strconv.FormatUint(uint64(e.StreamID), 10) + " reset: " + e.Code.String()
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e StreamError) Unwrap() error { return e.Cause }

// ConnError ends the whole connection with GOAWAY (RFC 9113 §5.4.1); we
// detected it and sent the GOAWAY.
type ConnError struct {
	Code  ErrCode
	Cause error
}

func (e ConnError) Error() string {
	s := "h2: connection error: " + e.Code.String()
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e ConnError) Unwrap() error { return e.Cause }

// GoAwayError is the peer's GOAWAY: streams above LastStreamID were not
// processed and are safe to retry (RFC 9113 §6.8).
type GoAwayError struct {
	LastStreamID uint32
	Code         ErrCode
	Debug        string
}

func (e GoAwayError) Error() string {
	return "h2: peer sent GOAWAY " + e.Code.String() + " last stream " +
		strconv.FormatUint(uint64(e.LastStreamID), 10) + " " + strconv.Quote(e.Debug)
}

func streamErr(id uint32, code ErrCode, cause error) error {
	return StreamError{StreamID: id, Code: code, Cause: cause}
}

func connErr(code ErrCode, cause error) error {
	return ConnError{Code: code, Cause: cause}
}

// PanicError is a panic h2 recovered where its own state may be left
// inconsistent (the HPACK encoder): the connection is ended with it, and
// Config.OnPanic reports it. It is never swallowed.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("h2: panic: %v", e.Value) }
