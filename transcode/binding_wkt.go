package transcode

import (
	"bytes"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// textWKT is a well-known message type that has a text form in paths and
// queries, as in the proto3 JSON mapping.
type textWKT uint8

const (
	textWKTNone textWKT = iota
	textWKTTimestamp
	textWKTDuration
	textWKTFieldMask
	textWKTWrapper
)

func textWKTOf(name protoreflect.FullName) textWKT {
	switch name {
	case "google.protobuf.Timestamp":
		return textWKTTimestamp
	case "google.protobuf.Duration":
		return textWKTDuration
	case "google.protobuf.FieldMask":
		return textWKTFieldMask
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
		"google.protobuf.Int64Value", "google.protobuf.UInt64Value",
		"google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue",
		"google.protobuf.BytesValue":
		return textWKTWrapper
	}
	return textWKTNone
}

// textMinTimestamp and the others bound Timestamp and Duration as protojson does: years
// 0001 to 9999, durations within ±10000 years.
const (
	textMinTimestamp = -62135596800
	textMaxTimestamp = 253402300799
	textMaxDuration  = 315576000000
)

// appendWKTText appends the fields (no tag, no length) of a well-known
// message parsed from its text form.
func appendWKTText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	md := fd.Message()
	switch textWKTOf(md.FullName()) {
	case textWKTTimestamp:
		return appendTimestampText(dst, fd, text)
	case textWKTDuration:
		return appendDurationText(dst, fd, text)
	case textWKTFieldMask:
		return appendFieldMaskText(dst, text), nil
	case textWKTWrapper:
		return appendFieldText(dst, md.Fields().ByNumber(1), text)
	}
	return dst, valueErr(fd, text, "no text form")
}

// appendSecondsNanos writes {seconds=1, nanos=2}, skipping zeros.
func appendSecondsNanos(dst []byte, sec int64, nanos int32) []byte {
	if sec != 0 {
		dst = protowire.AppendTag(dst, 1, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(sec))
	}
	if nanos != 0 {
		dst = protowire.AppendTag(dst, 2, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(int64(nanos)))
	}
	return dst
}

// appendTimestampText parses RFC 3339 ("2017-01-15T01:30:15.01Z").
func appendTimestampText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	s := textView(text)
	if !strings.ContainsAny(s, "Tt") {
		return dst, valueErr(fd, text, "not an RFC 3339 timestamp")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return dst, valueErr(fd, text, "not an RFC 3339 timestamp")
	}
	sec := t.Unix()
	if sec < textMinTimestamp || sec > textMaxTimestamp {
		return dst, valueErr(fd, text, "timestamp out of range")
	}
	return appendSecondsNanos(dst, sec, int32(t.Nanosecond())), nil
}

// appendDurationText parses "1.5s", "-0.000000001s".
func appendDurationText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	s := textView(text)
	bad := func() ([]byte, error) { return dst, valueErr(fd, text, "not a duration like \"1.5s\"") }
	if len(s) < 2 || s[len(s)-1] != 's' {
		return bad()
	}
	s = s[:len(s)-1]
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 || !durationDigits(whole) || !durationDigits(frac) || len(whole) > 12 {
		return bad()
	}
	var sec int64
	for i := 0; i < len(whole); i++ {
		sec = sec*10 + int64(whole[i]-'0')
	}
	var nanos int32
	for i := 0; i < 9; i++ {
		nanos *= 10
		if i < len(frac) {
			nanos += int32(frac[i] - '0')
		}
	}
	if sec > textMaxDuration {
		return dst, valueErr(fd, text, "duration out of range")
	}
	if neg {
		sec, nanos = -sec, -nanos
	}
	return appendSecondsNanos(dst, sec, nanos), nil
}

func durationDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendFieldMaskText writes paths=1 for each comma-separated path, with
// lowerCamelCase names turned into the snake_case the wire uses.
func appendFieldMaskText(dst []byte, text []byte) []byte {
	for len(text) > 0 {
		p := text
		if i := bytes.IndexByte(text, ','); i >= 0 {
			p, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if len(p) == 0 {
			continue
		}
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		start := len(dst)
		for _, c := range p {
			if 'A' <= c && c <= 'Z' {
				dst = append(dst, '_', c+'a'-'A')
				continue
			}
			dst = append(dst, c)
		}
		dst = spliceLen(dst, start)
	}
	return dst
}
