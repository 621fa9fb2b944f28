package transcode

import (
	"bytes"
	"hash/maphash"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// mapValue reads a JSON object into map field f: one entry message per
// member, key converted from the member name.
func (d *codecState) mapValue(f *fieldPlan) error {
	if d.peek() != '{' {
		return d.errUnexpected()
	}
	d.pos++
	ks := keySet{keys0: len(d.keys), hash0: len(d.khash)}
	defer func() { d.keys, d.khash = d.keys[:ks.keys0], d.khash[:ks.hash0] }()
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		if err := d.mapEntry(f, &ks); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.errUnexpected()
		}
	}
}

func (d *codecState) mapEntry(f *fieldPlan, ks *keySet) error {
	at := d.pos
	name, err := d.readName()
	if err != nil {
		return err
	}
	mark := len(d.dst)
	d.dst = protowire.AppendVarint(d.dst, f.tag)
	entry := d.open()
	if !d.mapKey(f.key, name) {
		d.dst = d.dst[:mark]
		return &Error{Offset: at, Field: f.name, Msg: "invalid value for " + f.key.kind.String() + " key of map field " + f.name + ": " + quoteRaw(d.in[at:d.pos-1])}
	}
	keyLen := len(d.dst) - entry
	if d.dupKey(ks, d.dst[entry:]) {
		d.dst = d.dst[:mark]
		return &Error{Offset: at, Field: f.name, Msg: "duplicate key " + quoteRaw(d.in[at:d.pos-1]) + " in map field " + f.name}
	}
	wrote := true
	if v := f.val; v.isMsg() {
		err = d.nested(v)
	} else {
		wrote, err = d.scalar(v, true, false)
	}
	if err != nil || !wrote {
		d.dst = d.dst[:mark]
		return err
	}
	n := len(d.dst) - entry
	d.close(entry)
	start := int32(len(d.dst) - n)
	d.addKey(ks, keySpan{start, start + int32(keyLen)})
	return nil
}

// keySet locates one map's keys in d.keys and, past a few keys, its hash
// index in d.khash. Nested maps stack their sets above it and pop them
// before the outer map adds a key, so the index can grow in place.
type keySet struct {
	keys0, hash0 int
	size         int // slots in the index, 0 while keys are few
}

const keyScanMax = 16 // below this, a linear scan beats hashing

// dupKey reports whether the encoded key was already written in this map.
// Encoded keys are canonical, so byte equality is key equality. The index
// hashes with a per-schema random seed, against collision flooding.
func (d *codecState) dupKey(ks *keySet, key []byte) bool {
	if ks.size == 0 {
		for _, k := range d.keys[ks.keys0:] {
			if bytes.Equal(d.dst[k.start:k.end], key) {
				return true
			}
		}
		return false
	}
	mask := uint64(ks.size - 1)
	for j := maphash.Bytes(d.s.seed, key) & mask; ; j = (j + 1) & mask {
		i := d.khash[ks.hash0+int(j)]
		if i < 0 {
			return false
		}
		k := d.keys[i]
		if bytes.Equal(d.dst[k.start:k.end], key) {
			return true
		}
	}
}

func (d *codecState) addKey(ks *keySet, k keySpan) {
	d.keys = append(d.keys, k)
	n := len(d.keys) - ks.keys0
	if n < keyScanMax {
		return
	}
	if 2*n <= ks.size {
		d.insertKey(ks, len(d.keys)-1)
		return
	}
	ks.size = 4 * n
	for ks.size&(ks.size-1) != 0 {
		ks.size &= ks.size - 1
	}
	ks.size <<= 1
	d.khash = d.khash[:ks.hash0]
	for i := 0; i < ks.size; i++ {
		d.khash = append(d.khash, -1)
	}
	for i := ks.keys0; i < len(d.keys); i++ {
		d.insertKey(ks, i)
	}
}

func (d *codecState) insertKey(ks *keySet, i int) {
	k := d.keys[i]
	mask := uint64(ks.size - 1)
	j := maphash.Bytes(d.s.seed, d.dst[k.start:k.end]) & mask
	for d.khash[ks.hash0+int(j)] >= 0 {
		j = (j + 1) & mask
	}
	d.khash[ks.hash0+int(j)] = int32(i)
}

// mapKey appends the key field of a map entry converted from a JSON member
// name, as protojson converts it (strconv rules for integers).
func (d *codecState) mapKey(k *fieldPlan, name []byte) bool {
	var v uint64
	switch k.kind {
	case protoreflect.StringKind:
		d.dst = protowire.AppendVarint(d.dst, k.tag)
		d.dst = protowire.AppendBytes(d.dst, name)
		return true
	case protoreflect.BoolKind:
		switch string(name) {
		case "true":
			v = 1
		case "false":
		default:
			return false
		}
	default:
		var ok bool
		if v, ok = keyBits(k.kind, name); !ok {
			return false
		}
	}
	d.dst = protowire.AppendVarint(d.dst, k.tag)
	switch k.wt {
	case protowire.VarintType:
		d.dst = protowire.AppendVarint(d.dst, v)
	case protowire.Fixed32Type:
		d.dst = protowire.AppendFixed32(d.dst, uint32(v))
	default:
		d.dst = protowire.AppendFixed64(d.dst, v)
	}
	return true
}

// keyBits parses a decimal map key as strconv.ParseInt/ParseUint(s, 10, n)
// would and returns the wire bits for kind k.
func keyBits(k protoreflect.Kind, s []byte) (uint64, bool) {
	signed := k == protoreflect.Int32Kind || k == protoreflect.Sint32Kind || k == protoreflect.Sfixed32Kind ||
		k == protoreflect.Int64Kind || k == protoreflect.Sint64Kind || k == protoreflect.Sfixed64Kind
	bits := 64
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		bits = 32
	}
	neg := false
	if signed && len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
	}
	mag, ok := accumulate(0, s)
	if !ok {
		return 0, false
	}
	if !signed {
		if bits == 32 && mag > math.MaxUint32 {
			return 0, false
		}
		return mag, true
	}
	lim := uint64(1) << (bits - 1)
	if (neg && mag > lim) || (!neg && mag >= lim) {
		return 0, false
	}
	v := int64(mag)
	if neg {
		v = -v
	}
	switch k {
	case protoreflect.Sint32Kind:
		return uint64(uint32(v)<<1 ^ uint32(v>>31)), true
	case protoreflect.Sint64Kind:
		return protowire.EncodeZigZag(v), true
	case protoreflect.Sfixed32Kind:
		return uint64(uint32(v)), true
	}
	return uint64(v), true
}
