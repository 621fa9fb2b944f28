package transcode

import (
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Ranges of protojson (and of the google.protobuf documentation).
const (
	codecMaxDurationSecs  = 315576000000
	codecMaxTimestampSecs = 253402300799
	codecMinTimestampSecs = -62135596800
)

// appendSecondsNanos appends the two fields of a Timestamp or Duration.
func (d *codecState) appendSecondsNanos(secs int64, nanos int32) {
	if secs != 0 {
		d.dst = protowire.AppendVarint(append(d.dst, 1<<3), uint64(secs))
	}
	if nanos != 0 {
		d.dst = protowire.AppendVarint(append(d.dst, 2<<3), uint64(int64(nanos)))
	}
}

// timestamp reads an RFC 3339 string, as protojson: time.Parse's rules,
// years 1 to 9999, at most nine fractional digits.
func (d *codecState) timestamp(p *Plan) error {
	if d.peek() != '"' {
		return d.errUnexpected()
	}
	at := d.pos
	b, err := d.strValue()
	if err != nil {
		return err
	}
	s := bytesView(b)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return &Error{Offset: at, Msg: "invalid google.protobuf.Timestamp value " + quoteRaw(b)}
	}
	secs := t.Unix()
	if secs < codecMinTimestampSecs || secs > codecMaxTimestampSecs {
		return &Error{Offset: at, Msg: "google.protobuf.Timestamp value out of range: " + quoteRaw(b)}
	}
	i := strings.LastIndexByte(s, '.')
	j := strings.LastIndexAny(s, "Z-+")
	if i >= 0 && j >= i && j-i > len(".999999999") {
		return &Error{Offset: at, Msg: "invalid google.protobuf.Timestamp value " + quoteRaw(b)}
	}
	d.appendSecondsNanos(secs, int32(t.Nanosecond()))
	return nil
}

// duration reads "[-]S[.fffffffff]s" (protojson's parseDuration).
func (d *codecState) duration(p *Plan) error {
	if d.peek() != '"' {
		return d.errUnexpected()
	}
	at := d.pos
	b, err := d.strValue()
	if err != nil {
		return err
	}
	secs, nanos, ok := parseDuration(b)
	if !ok {
		return &Error{Offset: at, Msg: "invalid google.protobuf.Duration value " + quoteRaw(b)}
	}
	if secs < -codecMaxDurationSecs || secs > codecMaxDurationSecs {
		return &Error{Offset: at, Msg: "google.protobuf.Duration value out of range: " + quoteRaw(b)}
	}
	d.appendSecondsNanos(secs, nanos)
	return nil
}

func parseDuration(b []byte) (int64, int32, bool) {
	if len(b) < 2 || b[len(b)-1] != 's' {
		return 0, 0, false
	}
	b = b[:len(b)-1]
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg, b = b[0] == '-', b[1:]
	}
	if len(b) == 0 {
		return 0, 0, false
	}
	var intp []byte
	switch c := b[0]; {
	case c == '0':
		b = b[1:]
	case '1' <= c && c <= '9':
		n := 1
		for n < len(b) && isDigit(b[n]) {
			n++
		}
		intp, b = b[:n], b[n:]
	case c != '.':
		return 0, 0, false
	}
	var nanos int64
	if len(b) > 0 {
		if b[0] != '.' {
			return 0, 0, false
		}
		b = b[1:]
		n := 0
		for ; n < len(b) && n < 9 && isDigit(b[n]); n++ {
			nanos = nanos*10 + int64(b[n]-'0')
		}
		if n < len(b) {
			return 0, 0, false
		}
		for ; n < 9; n++ {
			nanos *= 10
		}
	}
	mag, ok := accumulate(0, intp)
	if !ok || mag > 1<<63-1 {
		return 0, 0, false
	}
	secs := int64(mag)
	if neg {
		secs, nanos = -secs, -nanos
	}
	return secs, int32(nanos), true
}
