package transcode

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// mapItem is one decoded map entry; k orders numeric keys (sign bit
// flipped for signed kinds) as protojson's GenericKeyOrder does.
type mapItem struct {
	str    bool
	key    []byte
	k      uint64
	kbits  uint64 // key wire bits, for printing
	val    []byte
	hasVal bool
}

func cmpMapItem(a, b mapItem) int {
	if a.str {
		return bytes.Compare(a.key, b.key)
	}
	return cmp.Compare(a.k, b.k)
}

// emitMap writes map field f from its entries e.ents[lo:hi], sorted by key;
// of repeated keys the last wins, as when the wire is parsed.
func (e *codecState) emitMap(f *fieldPlan, b []byte, lo, hi int) error {
	base := len(e.items)
	defer func() {
		clear(e.items[base:])
		e.items = e.items[:base]
	}()
	for q := lo; q < hi; q++ {
		it, err := mapItemOf(f, b[e.ents[q].start:e.ents[q].end])
		if err != nil {
			return err
		}
		if v := f.val; v.closed && it.hasVal && v.enum.quotedName(int32(wireBits(v.wt, it.val))) == nil {
			continue // the whole entry is an unknown field to proto.Unmarshal
		}
		e.items = append(e.items, it)
	}
	slices.SortStableFunc(e.items[base:], cmpMapItem)
	e.dst = append(e.dst, '{')
	first := true
	for i := base; i < len(e.items); i++ {
		if i+1 < len(e.items) && cmpMapItem(e.items[i], e.items[i+1]) == 0 {
			continue
		}
		if !first {
			e.dst = append(e.dst, ',')
		}
		first = false
		it := e.items[i]
		e.appendMapKey(f.key, it)
		e.dst = append(e.dst, ':')
		if err := e.emitMapValue(f.val, it); err != nil {
			return err
		}
	}
	e.dst = append(e.dst, '}')
	return nil
}

func (e *codecState) appendMapKey(k *fieldPlan, it mapItem) {
	switch k.kind {
	case protoreflect.StringKind:
		e.dst, _ = appendJSONString(e.dst, it.key) // validated by mapItemOf
	case protoreflect.BoolKind:
		if it.kbits != 0 {
			e.dst = append(e.dst, `"true"`...)
		} else {
			e.dst = append(e.dst, `"false"`...)
		}
	default:
		e.dst = append(e.dst, '"')
		if signedKind(k.kind) {
			e.dst = strconv.AppendInt(e.dst, int64(it.k^1<<63), 10)
		} else {
			e.dst = strconv.AppendUint(e.dst, it.k, 10)
		}
		e.dst = append(e.dst, '"')
	}
}

func (e *codecState) emitMapValue(v *fieldPlan, it mapItem) error {
	switch {
	case v.isMsg():
		return e.emitMessage(v.msg, it.val, nil)
	case it.hasVal:
		return e.emitScalar(v, it.val)
	}
	e.emitZero(v)
	return nil
}

// mapItemOf decodes one map entry message. A missing key or value is the
// zero value; repeated occurrences follow the wire rules.
func mapItemOf(f *fieldPlan, b []byte) (mapItem, error) {
	it := mapItem{str: f.key.kind == protoreflect.StringKind}
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return it, ErrWire
		}
		b = b[n:]
		vn := protowire.ConsumeFieldValue(num, wt, b)
		if vn < 0 {
			return it, ErrWire
		}
		raw := b[:vn]
		b = b[vn:]
		if wt == protowire.BytesType {
			raw, _ = protowire.ConsumeBytes(raw)
		}
		switch {
		case num == 1 && wt == f.key.wt:
			it.key, it.kbits = raw, wireBits(wt, raw)
		case num == 2 && wt == f.val.wt:
			if f.val.kind == protoreflect.MessageKind && it.hasVal {
				raw = append(append([]byte(nil), it.val...), raw...) // merge: rare
			}
			it.val, it.hasVal = raw, true
		}
	}
	if it.str && f.key.utf8 && !validUTF8(it.key) {
		return it, ErrWire
	}
	it.k = mapKeyOrder(f.key.kind, it.kbits)
	return it, nil
}

func signedKind(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return true
	}
	return false
}

// mapKeyOrder turns key wire bits into an unsigned sort key.
func mapKeyOrder(k protoreflect.Kind, v uint64) uint64 {
	switch k {
	case protoreflect.BoolKind:
		if v != 0 {
			return 1
		}
		return 0
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return uint64(int64(int32(v))) ^ 1<<63
	case protoreflect.Sint32Kind:
		return uint64(int64(int32(protowire.DecodeZigZag(v&math.MaxUint32)))) ^ 1<<63
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		return v ^ 1<<63
	case protoreflect.Sint64Kind:
		return uint64(protowire.DecodeZigZag(v)) ^ 1<<63
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return uint64(uint32(v))
	}
	return v
}
