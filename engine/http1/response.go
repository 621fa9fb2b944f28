package http1

import (
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"
)

// Body framing for AppendResponseHead's contentLength, besides a length.
const (
	LengthChunked = -1 // Transfer-Encoding: chunked (HTTP/1.1 clients only)
	LengthClose   = -2 // no framing field: the body ends when the connection closes (HTTP/1.0 streaming)
)

// AppendResponseHead appends an HTTP/1.1 status line and header section
// to dst: Date, Content-Type (when not empty), the framing (a
// Content-Length, or see LengthChunked and LengthClose), Connection, and
// extra. Connection is close when keepAlive is false or the body is
// close-delimited, keep-alive otherwise (HTTP/1.0 clients need it said).
// A 1xx, 204 or 304 gets no framing field (RFC 9110 §8.6). A status
// outside 100..999 is written as 500. Fields of extra whose name is not a
// token or whose value holds CR, LF or another control character are
// dropped, so metadata cannot split the response.
func AppendResponseHead(dst []byte, status int, contentType string, contentLength int, keepAlive bool, extra []Header) []byte {
	if status < 100 || status > 999 {
		status = 500
	}
	dst = appendStatusLine(dst, status)
	dst = append(dst, "Date: "...)
	dst = appendDate(dst)
	if contentType != "" {
		dst = append(dst, "\r\nContent-Type: "...)
		dst = append(dst, contentType...)
	}
	if bodyAllowed(status) {
		switch {
		case contentLength >= 0:
			dst = append(dst, "\r\nContent-Length: "...)
			dst = strconv.AppendInt(dst, int64(contentLength), 10)
		case contentLength == LengthChunked:
			dst = append(dst, "\r\nTransfer-Encoding: chunked"...)
		default:
			keepAlive = false
		}
	}
	if keepAlive {
		dst = append(dst, "\r\nConnection: keep-alive"...)
	} else {
		dst = append(dst, "\r\nConnection: close"...)
	}
	for _, h := range extra {
		if isToken(h.Name) && validValue(h.Value) {
			dst = append(dst, "\r\n"...)
			dst = append(dst, h.Name...)
			dst = append(dst, ": "...)
			dst = append(dst, h.Value...)
		}
	}
	return append(dst, "\r\n\r\n"...)
}

// AppendField appends one more field to a head made by AppendResponseHead
// with its final blank line cut off (see EndHead): "\r\n" first, then
// "name: value". A field whose name is not a token or whose value holds a
// control character is dropped, so metadata cannot split the response.
func AppendField(dst []byte, name, value string) []byte {
	if !isToken(unsafe.Slice(unsafe.StringData(name), len(name))) ||
		!validValue(unsafe.Slice(unsafe.StringData(value), len(value))) {
		return dst
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	return append(dst, value...)
}

// OpenHead cuts the blank line off a head made by AppendResponseHead, so
// AppendField can add fields; EndHead puts it back.
func OpenHead(head []byte) []byte { return head[:len(head)-4] }

// EndHead ends a head opened with OpenHead.
func EndHead(dst []byte) []byte { return append(dst, "\r\n\r\n"...) }

// AppendContinue appends the interim response that tells a client sent
// Expect: 100-continue to send its body (RFC 9110 §15.2.1).
func AppendContinue(dst []byte) []byte {
	return append(dst, "HTTP/1.1 100 Continue\r\n\r\n"...)
}

// appendStatusLine appends "HTTP/1.1 NNN Reason\r\n" for a status in
// 100..999.
func appendStatusLine(dst []byte, status int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = append(dst, byte('0'+status/100), byte('0'+status/10%10), byte('0'+status%10), ' ')
	dst = append(dst, StatusText(status)...)
	return append(dst, "\r\n"...)
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != 204 && status != 304
}

// AppendChunk appends p as one chunk (RFC 9112 §7.1). An empty p appends
// nothing: a zero-size chunk would end the body.
func AppendChunk(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	dst = strconv.AppendUint(dst, uint64(len(p)), 16)
	dst = append(dst, "\r\n"...)
	dst = append(dst, p...)
	return append(dst, "\r\n"...)
}

// AppendLastChunk appends the last chunk and the trailer section; unsafe
// trailer fields are dropped as in AppendResponseHead.
func AppendLastChunk(dst []byte, trailers ...Header) []byte {
	dst = append(dst, "0\r\n"...)
	for _, h := range trailers {
		if isToken(h.Name) && validValue(h.Value) {
			dst = append(dst, h.Name...)
			dst = append(dst, ": "...)
			dst = append(dst, h.Value...)
			dst = append(dst, "\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

// TimeFormat is the IMF-fixdate layout of the Date field (RFC 9110 §5.6.7).
const TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// dateValue is one second's formatted Date.
type dateValue struct {
	unix int64
	b    [len(TimeFormat)]byte
}

// date caches the Date value; the first response of each second formats
// it (a race formats it twice, harmlessly), so no goroutine ticks.
var date atomic.Pointer[dateValue]

func appendDate(dst []byte) []byte {
	now := time.Now()
	d := date.Load()
	if d == nil || d.unix != now.Unix() {
		d = &dateValue{unix: now.Unix()}
		now.UTC().AppendFormat(d.b[:0], TimeFormat)
		date.Store(d)
	}
	return append(dst, d.b[:]...)
}
