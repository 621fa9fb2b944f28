package transcode

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Text forms of path and query values: the proto3 JSON mapping of a scalar
// without its quotes (enum names or numbers, base64 bytes, "NaN" and
// "Infinity" floats), and the string forms of the well-known types.

// hasTextForm reports whether a field's value can be written as text.
func hasTextForm(fd protoreflect.FieldDescriptor) bool {
	if fd.Kind() == protoreflect.GroupKind {
		return false
	}
	if fd.Kind() != protoreflect.MessageKind {
		return true
	}
	return textWKTOf(fd.Message().FullName()) != textWKTNone
}

// textView views b as a string for parsing only: the result must not outlive
// b or be retained (strconv keeps no reference on success; errors here
// never wrap it).
func textView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// appendFieldText appends tag and value of one element of fd parsed from
// text.
func appendFieldText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	k := fd.Kind()
	if k == protoreflect.MessageKind {
		dst = protowire.AppendTag(dst, fd.Number(), protowire.BytesType)
		start := len(dst)
		dst, err := appendWKTText(dst, fd, text)
		if err != nil {
			return dst, err
		}
		return spliceLen(dst, start), nil
	}
	dst = protowire.AppendTag(dst, fd.Number(), wireTypeOf(k))
	return appendScalarText(dst, fd, text)
}

func wireTypeOf(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	}
	return protowire.VarintType
}

// appendScalarText appends the value (no tag) of a scalar or enum field.
func appendScalarText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	s := textView(text)
	switch k := fd.Kind(); k {
	case protoreflect.StringKind:
		if !utf8.Valid(text) && fd.ParentFile().Syntax() != protoreflect.Proto2 {
			return dst, valueErr(fd, text, "invalid UTF-8")
		}
		return protowire.AppendBytes(dst, text), nil
	case protoreflect.BytesKind:
		return appendBase64Text(dst, fd, text)
	case protoreflect.BoolKind:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return dst, valueErr(fd, text, "not a bool")
		}
		return protowire.AppendVarint(dst, protowire.EncodeBool(v)), nil
	case protoreflect.EnumKind:
		return appendEnumText(dst, fd, text)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return appendFloatText(dst, fd, text)
	}
	return appendIntText(dst, fd, text)
}

func appendIntText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	s := textView(text)
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return dst, valueErr(fd, text, "not an int32")
		}
		return appendIntWire(dst, fd.Kind(), uint64(v)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return dst, valueErr(fd, text, "not an int64")
		}
		return appendIntWire(dst, fd.Kind(), uint64(v)), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return dst, valueErr(fd, text, "not a uint32")
		}
		return appendIntWire(dst, fd.Kind(), v), nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return dst, valueErr(fd, text, "not a uint64")
	}
	return appendIntWire(dst, fd.Kind(), v), nil
}

// appendIntWire encodes v (sign-extended for signed kinds) as kind does.
func appendIntWire(dst []byte, k protoreflect.Kind, v uint64) []byte {
	switch k {
	case protoreflect.Sint32Kind:
		return protowire.AppendVarint(dst, protowire.EncodeZigZag(int64(int32(v))))
	case protoreflect.Sint64Kind:
		return protowire.AppendVarint(dst, protowire.EncodeZigZag(int64(v)))
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind:
		return protowire.AppendFixed32(dst, uint32(v))
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind:
		return protowire.AppendFixed64(dst, v)
	}
	return protowire.AppendVarint(dst, v)
}

func appendFloatText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	bits := 64
	if fd.Kind() == protoreflect.FloatKind {
		bits = 32
	}
	v, err := strconv.ParseFloat(textView(text), bits)
	if err != nil {
		return dst, valueErr(fd, text, "not a number")
	}
	if bits == 32 {
		return protowire.AppendFixed32(dst, math.Float32bits(float32(v))), nil
	}
	return protowire.AppendFixed64(dst, math.Float64bits(v)), nil
}

// appendEnumText accepts a value name or a number; numbers outside a closed
// enum are rejected.
func appendEnumText(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	ed := fd.Enum()
	if ev := ed.Values().ByName(protoreflect.Name(textView(text))); ev != nil {
		return protowire.AppendVarint(dst, uint64(ev.Number())), nil
	}
	n, err := strconv.ParseInt(textView(text), 10, 32)
	if err != nil || (ed.IsClosed() && ed.Values().ByNumber(protoreflect.EnumNumber(n)) == nil) {
		return dst, valueErr(fd, text, "not a value of "+string(ed.FullName()))
	}
	return protowire.AppendVarint(dst, uint64(n)), nil
}

// appendBase64Text decodes standard or URL-safe base64, padded or not, as
// protojson accepts.
func appendBase64Text(dst []byte, fd protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	url := false
	for _, c := range text {
		if c == '-' || c == '_' {
			url = true
			break
		}
	}
	raw := len(text)%4 != 0
	enc := base64.StdEncoding
	switch {
	case url && raw:
		enc = base64.RawURLEncoding
	case url:
		enc = base64.URLEncoding
	case raw:
		enc = base64.RawStdEncoding
	}
	n := enc.DecodedLen(len(text))
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	n, err := enc.Decode(dst[start:], text)
	if err != nil {
		return dst[:start], valueErr(fd, text, "not base64")
	}
	return spliceLen(dst[:start+n], start), nil
}

// valueErr is a 400 naming the field and the offending value.
func valueErr(fd protoreflect.FieldDescriptor, text []byte, why string) error {
	v := string(text)
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return badRequest("invalid value for " + kindName(fd) + " field " + string(fd.Name()) +
		": " + strconv.Quote(v) + ": " + why)
}
