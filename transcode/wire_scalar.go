package transcode

import (
	"encoding/base64"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// scalar reads the JSON value of a scalar or enum field (or one element of
// a repeated one) and appends it, after f's tag when tagged. A zero value is
// left out when skipZero (fields without presence). It reports whether
// anything was written: an unknown enum name with DiscardUnknown is not.
func (d *codecState) scalar(f *fieldPlan, tagged, skipZero bool) (bool, error) {
	var v uint64
	var err error
	switch f.kind {
	case protoreflect.StringKind:
		return d.stringValue(f, tagged, skipZero)
	case protoreflect.BytesKind:
		return d.bytesValue(f, tagged, skipZero)
	case protoreflect.BoolKind:
		v, err = d.boolValue(f)
	case protoreflect.EnumKind:
		var ok bool
		if v, ok, err = d.enumValue(f); !ok {
			return false, err
		}
	default:
		v, err = d.numeric(f)
	}
	if err != nil || (skipZero && v == 0) {
		return false, err
	}
	if tagged {
		d.dst = protowire.AppendVarint(d.dst, f.tag)
	}
	switch f.wt {
	case protowire.VarintType:
		d.dst = protowire.AppendVarint(d.dst, v)
	case protowire.Fixed32Type:
		d.dst = protowire.AppendFixed32(d.dst, uint32(v))
	default:
		d.dst = protowire.AppendFixed64(d.dst, v)
	}
	return true, nil
}

// errValue reports an invalid value for f that starts at offset at.
func (d *codecState) errValue(f *fieldPlan, at int) error {
	end := d.pos
	if end <= at {
		end = at
		for end < len(d.in) && end-at < 40 && (isNotDelim(d.in[end]) || end == at) {
			end++
		}
	}
	return &Error{Offset: at, Field: f.name,
		Msg: "invalid value for " + f.kind.String() + " field " + f.name + ": " + quoteRaw(d.in[at:end])}
}

func (d *codecState) boolValue(f *fieldPlan) (uint64, error) {
	at := d.pos
	switch d.peek() {
	case 't':
		if d.literal("true") {
			return 1, nil
		}
	case 'f':
		if d.literal("false") {
			return 0, nil
		}
	}
	return 0, d.errValue(f, at)
}

// numeric reads an integer or float field value, from a number or from a
// string holding exactly one number, and returns its wire bits.
func (d *codecState) numeric(f *fieldPlan) (uint64, error) {
	c := d.peek()
	at := d.pos
	var b []byte
	switch {
	case c == '"':
		s, err := d.strValue()
		if err != nil {
			return 0, err
		}
		if f.kind == protoreflect.FloatKind || f.kind == protoreflect.DoubleKind {
			if v, ok := specialFloat(s, f.kind); ok {
				return v, nil
			}
		}
		if !wholeNumber(s) {
			return 0, d.errValue(f, at)
		}
		b = s
	case c == '-' || isDigit(c):
		var ok bool
		if b, ok = d.number(); !ok {
			return 0, d.errValue(f, at)
		}
	default:
		return 0, d.errValue(f, at)
	}
	v, ok := numberBits(f.kind, b)
	if !ok {
		return 0, d.errValue(f, at)
	}
	return v, nil
}

// numberBits converts a number to the wire bits of a field of kind k.
func numberBits(k protoreflect.Kind, b []byte) (uint64, bool) {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		v, ok := jsonInt(b, 32)
		if k == protoreflect.Sfixed32Kind {
			return uint64(uint32(v)), ok
		}
		return uint64(v), ok
	case protoreflect.Sint32Kind:
		v, ok := jsonInt(b, 32)
		return uint64(uint32(v)<<1 ^ uint32(v>>31)), ok
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		v, ok := jsonInt(b, 64)
		return uint64(v), ok
	case protoreflect.Sint64Kind:
		v, ok := jsonInt(b, 64)
		return protowire.EncodeZigZag(v), ok
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return jsonUint(b, 32)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return jsonUint(b, 64)
	case protoreflect.FloatKind:
		v, ok := jsonFloat(b, 32)
		return uint64(math.Float32bits(float32(v))), ok
	case protoreflect.DoubleKind:
		v, ok := jsonFloat(b, 64)
		return math.Float64bits(v), ok
	}
	return 0, false
}

func specialFloat(s []byte, k protoreflect.Kind) (uint64, bool) {
	var v float64
	switch string(s) {
	case "NaN":
		v = math.NaN()
	case "Infinity":
		v = math.Inf(1)
	case "-Infinity":
		v = math.Inf(-1)
	default:
		return 0, false
	}
	if k == protoreflect.FloatKind {
		return uint64(math.Float32bits(float32(v))), true
	}
	return math.Float64bits(v), true
}

// enumValue reads an enum by name or number; ok is false when an unknown
// name is discarded.
func (d *codecState) enumValue(f *fieldPlan) (v uint64, ok bool, err error) {
	c := d.peek()
	at := d.pos
	switch {
	case c == '"':
		s, err := d.strValue()
		if err != nil {
			return 0, false, err
		}
		if n, ok := f.enum.names.find(s); ok {
			return uint64(int64(n)), true, nil
		}
		if d.s.opts.DiscardUnknown {
			return 0, false, nil
		}
	case c == '-' || isDigit(c):
		if b, ok := d.number(); ok {
			if n, ok := jsonInt(b, 32); ok {
				return uint64(n), true, nil
			}
		}
	case c == 'n':
		if f.nullValue && d.literal("null") {
			return 0, true, nil
		}
	}
	return 0, false, d.errValue(f, at)
}

func (d *codecState) stringValue(f *fieldPlan, tagged, skipZero bool) (bool, error) {
	if d.peek() != '"' {
		return false, d.errValue(f, d.pos)
	}
	raw, esc, err := d.str()
	if err != nil || (skipZero && len(raw) == 0) {
		return false, err
	}
	if tagged {
		d.dst = protowire.AppendVarint(d.dst, f.tag)
	}
	if !esc {
		d.dst = protowire.AppendVarint(d.dst, uint64(len(raw)))
		d.dst = append(d.dst, raw...)
		return true, nil
	}
	d.tmp = appendUnescaped(d.tmp[:0], raw)
	d.dst = protowire.AppendVarint(d.dst, uint64(len(d.tmp)))
	d.dst = append(d.dst, d.tmp...)
	return true, nil
}

// base64Encodings are protojson's choices: URL alphabet when the text has
// '-' or '_', no padding when its length is not a multiple of 4.
var base64Encodings = [4]*base64.Encoding{
	base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
}

func (d *codecState) bytesValue(f *fieldPlan, tagged, skipZero bool) (bool, error) {
	if d.peek() != '"' {
		return false, d.errValue(f, d.pos)
	}
	at := d.pos
	s, err := d.strValue()
	if err != nil {
		return false, err
	}
	enc := 0
	for _, c := range s {
		if c == '-' || c == '_' {
			enc = 2
			break
		}
	}
	if len(s)%4 != 0 {
		enc++
	}
	mark := len(d.dst)
	if tagged {
		d.dst = protowire.AppendVarint(d.dst, f.tag)
	}
	start := d.open()
	d.dst, err = base64Encodings[enc].AppendDecode(d.dst, s)
	if err != nil {
		d.dst = d.dst[:mark]
		return false, d.errValue(f, at)
	}
	if skipZero && len(d.dst) == start {
		d.dst = d.dst[:mark]
		return false, nil
	}
	d.close(start)
	return true, nil
}
