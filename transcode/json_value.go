package transcode

import (
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wireBits decodes one scalar element: a varint or a fixed value, raw as
// collected (exactly one value).
func wireBits(wt protowire.Type, raw []byte) uint64 {
	switch wt {
	case protowire.VarintType:
		v, _ := protowire.ConsumeVarint(raw)
		return v
	case protowire.Fixed32Type:
		v, _ := protowire.ConsumeFixed32(raw)
		return uint64(v)
	case protowire.Fixed64Type:
		v, _ := protowire.ConsumeFixed64(raw)
		return v
	}
	return 0
}

// isZeroValue reports whether a scalar holds its kind's zero value, which
// a field without presence does not write.
func isZeroValue(f *fieldPlan, raw []byte) bool {
	switch f.kind {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return len(raw) == 0
	}
	v := wireBits(f.wt, raw)
	switch f.kind {
	case protoreflect.Int32Kind, protoreflect.Uint32Kind, protoreflect.Sint32Kind, protoreflect.EnumKind:
		return uint32(v) == 0
	}
	return v == 0
}

// emitScalar writes one scalar or enum value.
func (e *codecState) emitScalar(f *fieldPlan, raw []byte) error {
	switch f.kind {
	case protoreflect.StringKind:
		var ok bool
		if e.dst, ok = appendJSONString(e.dst, raw); !ok {
			return ErrWire // proto.Unmarshal rejects it too (proto3)
		}
		return nil
	case protoreflect.BytesKind:
		e.dst = appendJSONBytes(e.dst, raw)
		return nil
	}
	e.dst = appendNumber(e.dst, f, wireBits(f.wt, raw), e.s.opts.UseEnumNumbers)
	return nil
}

// appendNumber writes a numeric, bool or enum value from its wire bits.
func appendNumber(dst []byte, f *fieldPlan, v uint64, enumNumbers bool) []byte {
	switch f.kind {
	case protoreflect.BoolKind:
		if v != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(dst, int64(int32(v)), 10)
	case protoreflect.Sint32Kind:
		return strconv.AppendInt(dst, int64(int32(protowire.DecodeZigZag(v&math.MaxUint32))), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(dst, uint64(uint32(v)), 10)
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		return appendQuotedInt(dst, int64(v))
	case protoreflect.Sint64Kind:
		return appendQuotedInt(dst, protowire.DecodeZigZag(v))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return appendQuotedUint(dst, v)
	case protoreflect.FloatKind:
		return appendJSONFloat(dst, float64(math.Float32frombits(uint32(v))), 32)
	case protoreflect.DoubleKind:
		return appendJSONFloat(dst, math.Float64frombits(v), 64)
	case protoreflect.EnumKind:
		if f.nullValue {
			return append(dst, "null"...)
		}
		n := int32(v)
		if !enumNumbers {
			if q := f.enum.quotedName(n); q != nil {
				return append(dst, q...)
			}
		}
		return strconv.AppendInt(dst, int64(n), 10)
	}
	return dst
}

// emitZero writes the value protojson writes for an unset field with
// EmitUnpopulated: null for messages, empty lists and maps, zero scalars.
func (e *codecState) emitZero(f *fieldPlan) {
	switch {
	case f.list:
		e.dst = append(e.dst, '[', ']')
	case f.isMap:
		e.dst = append(e.dst, '{', '}')
	case f.kind == protoreflect.MessageKind, f.kind == protoreflect.GroupKind:
		e.dst = append(e.dst, "null"...)
	case f.kind == protoreflect.StringKind, f.kind == protoreflect.BytesKind:
		e.dst = append(e.dst, '"', '"')
	default:
		e.dst = appendNumber(e.dst, f, 0, e.s.opts.UseEnumNumbers)
	}
}
