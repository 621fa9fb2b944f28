package tracing

// TraceID and SpanID are W3C trace context ids (all zeros: invalid).
type (
	TraceID [16]byte
	SpanID  [8]byte
)

// FlagSampled is the traceparent flag that says the caller records the
// trace (W3C Trace Context §3.2.2.5).
const FlagSampled = 0x01

// flagsKnown are the flags a traceparent keeps: sampled and, from Trace
// Context Level 2, random. Others are ignored (§3.2.2.5: a vendor must
// not act on flags it does not know).
const flagsKnown = 0x03

// Parent is a client's traceparent: its trace, the span that called us.
type Parent struct {
	Trace TraceID
	Span  SpanID
	Flags byte
}

// Sampled reports the sampled flag.
func (p Parent) Sampled() bool { return p.Flags&FlagSampled != 0 }

// traceparentLen is the length of a version 00 traceparent:
// 2 + 1 + 32 + 1 + 16 + 1 + 2.
const traceparentLen = 55

// ParseTraceparent parses a traceparent header (W3C Trace Context
// §3.2): version-traceid-parentid-flags in lower-case hex. Version ff is
// invalid; version 00 is exactly 55 characters; a later version may add
// fields after a '-' at position 55. An all-zero trace or span id is
// invalid. Flags keep the bits this version knows. It does not allocate.
func ParseTraceparent(v string) (Parent, bool) {
	var p Parent
	if len(v) < traceparentLen || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return p, false
	}
	ver, ok := hexByte(v[0], v[1])
	if !ok || ver == 0xff || ver == 0 && len(v) != traceparentLen ||
		len(v) > traceparentLen && v[traceparentLen] != '-' {
		return p, false
	}
	flags, ok := hexByte(v[53], v[54])
	if !ok || !decodeHex(p.Trace[:], v[3:35]) || !decodeHex(p.Span[:], v[36:52]) ||
		p.Trace == (TraceID{}) || p.Span == (SpanID{}) {
		return Parent{}, false
	}
	p.Flags = flags & flagsKnown
	return p, true
}

// AppendTraceparent appends a version 00 traceparent naming span of trace.
func AppendTraceparent(dst []byte, trace TraceID, span SpanID, flags byte) []byte {
	dst = append(dst, "00-"...)
	dst = appendHex(dst, trace[:])
	dst = append(dst, '-')
	dst = appendHex(dst, span[:])
	return append(dst, '-', hexDigits[flags>>4], hexDigits[flags&0xf])
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// String is the id in lower-case hex.
func (t TraceID) String() string { return string(appendHex(make([]byte, 0, 32), t[:])) }

// String is the id in lower-case hex.
func (s SpanID) String() string { return string(appendHex(make([]byte, 0, 16), s[:])) }

// decodeHex fills dst from the lower-case hex in s (len(s) == 2*len(dst)).
// Every digit's value is ORed into bad, so one test at the end finds any
// character that is not a digit (0x10 in the table) without a branch per
// byte.
func decodeHex(dst []byte, s string) bool {
	var bad byte
	s = s[:2*len(dst)] // one bounds check for the loop
	for i := range dst {
		h, l := hexValue[s[2*i]], hexValue[s[2*i+1]]
		dst[i] = h<<4 | l&0xf
		bad |= h | l
	}
	return bad&0x10 == 0
}

func hexByte(hi, lo byte) (byte, bool) {
	h, l := hexValue[hi], hexValue[lo]
	return h<<4 | l&0xf, (h|l)&0x10 == 0
}

// hexValue maps a lower-case hex digit to its value and every other byte,
// upper-case digits included (§3.2.2), to 0x10.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x10
	}
	for i, c := range hexDigits {
		t[c] = byte(i)
	}
	return t
}()
