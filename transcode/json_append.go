package transcode

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// AppendJSON appends the JSON form of the message whose wire form is wire,
// as protojson.Marshal would write it (compact). Unknown fields are
// skipped. On error dst is returned unchanged.
func (p *Plan) AppendJSON(dst, wire []byte) ([]byte, error) {
	e := p.s.getState()
	e.dst, e.depth = dst, p.s.opts.MaxDepth
	err := e.emitMessage(p, wire, nil)
	out := e.dst
	p.s.putState(e)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendFieldJSON appends the JSON value of field fd of the wire message
// (a google.api.http response_body); an unset field gives its zero value.
func (p *Plan) AppendFieldJSON(dst []byte, fd protoreflect.FieldDescriptor, wire []byte) ([]byte, error) {
	f := p.fieldFor(fd)
	if f == nil {
		return dst, errNoField(p, fd)
	}
	e := p.s.getState()
	e.dst, e.depth = dst, p.s.opts.MaxDepth-1
	err := e.emitOneField(p, f, wire)
	out := e.dst
	p.s.putState(e)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func (e *codecState) emitOneField(p *Plan, f *fieldPlan, wire []byte) error {
	base, n, cbase, err := e.collect(p, wire)
	defer e.pop(base, cbase)
	if err != nil {
		return err
	}
	lo, hi := base, base
	for i := base; i < base+n; i++ {
		if e.ents[i].idx == f.index {
			if lo == hi {
				lo = i
			}
			hi = i + 1
		}
	}
	if lo == hi { // unset: the zero value, as grpc-gateway writes it
		if f.isMsg() && !f.list && !f.isMap && !f.isValue {
			return e.emitMessage(f.msg, nil, nil)
		}
		e.emitZero(f)
		return nil
	}
	return e.emitValue(f, wire, lo, hi)
}

// emitMessage writes message b of plan p; typeURL, when set, is written
// first as "@type" (an Any's embedded message).
func (e *codecState) emitMessage(p *Plan, b []byte, typeURL []byte) error {
	e.depth--
	defer func() { e.depth++ }()
	if e.depth < 0 {
		return ErrDepth
	}
	if p.wkt != wktNone && typeURL == nil {
		return e.emitWKT(p, b)
	}
	if p.msgSet {
		return ErrOutput // protojson: no support for proto1 MessageSets
	}
	if p.stream && !e.s.opts.EmitUnpopulated && p.inOrder(b) {
		return e.emitStream(p, b, typeURL)
	}
	base, n, cbase, err := e.collect(p, b)
	defer e.pop(base, cbase)
	if err != nil {
		return err
	}
	e.dst = append(e.dst, '{')
	first := true
	if typeURL != nil {
		e.dst = append(e.dst, `"@type":`...)
		e.dst, _ = appendJSONString(e.dst, typeURL)
		first = false
	}
	k := base
	for i := range p.fields {
		f := &p.fields[i]
		j := k
		for j < base+n && int(e.ents[j].idx) == i {
			j++
		}
		lo, hi := k, j
		k = j
		if f.oneof >= 0 {
			lo = e.oneofRun(cbase, f, i, lo, hi)
		}
		var err error
		if first, err = e.emitField(f, b, lo, hi, first); err != nil {
			return err
		}
	}
	e.dst = append(e.dst, '}')
	return nil
}

// emptyList reports a list with no element: only empty packed runs, or
// closed-enum numbers the enum lacks (proto.Unmarshal keeps those as
// unknown fields).
func (e *codecState) emptyList(f *fieldPlan, b []byte, lo, hi int) bool {
	for q := lo; q < hi; q++ {
		ent := e.ents[q]
		v := b[ent.start:ent.end]
		if ent.wt != protowire.BytesType {
			return false // single elements of closed enums are filtered by collect
		}
		for len(v) > 0 {
			n := elemLen(f.wt, v)
			if n < 0 || !f.closed || f.enum.quotedName(int32(wireBits(f.wt, v[:n]))) != nil {
				return false
			}
			v = v[n:]
		}
	}
	return true
}

// emptyMap reports a map whose entries all hold closed-enum numbers the
// enum lacks (unknown fields to proto.Unmarshal).
func (e *codecState) emptyMap(f *fieldPlan, b []byte, lo, hi int) bool {
	for q := lo; q < hi; q++ {
		it, err := mapItemOf(f, b[e.ents[q].start:e.ents[q].end])
		if err != nil || !it.hasVal || f.val.enum.quotedName(int32(wireBits(f.val.wt, it.val))) != nil {
			return false
		}
	}
	return true
}

// emitUnset writes an unset field for EmitUnpopulated: null when the
// field has presence, else its zero value.
func (e *codecState) emitUnset(f *fieldPlan) {
	if f.presence && !f.list && !f.isMap {
		e.dst = append(e.dst, "null"...)
		return
	}
	e.emitZero(f)
}

func (e *codecState) comma(first bool, f *fieldPlan) bool {
	if !first {
		e.dst = append(e.dst, ',')
	}
	e.dst = append(e.dst, f.outName...)
	return false
}

// emitField writes field f of a message from its entries e.ents[lo:hi],
// unless protojson leaves it out; first tracks the comma.
func (e *codecState) emitField(f *fieldPlan, b []byte, lo, hi int, first bool) (bool, error) {
	if (f.packable && e.emptyList(f, b, lo, hi)) || (f.isMap && f.val.closed && e.emptyMap(f, b, lo, hi)) {
		lo = hi // an empty list or map is unset
	}
	if lo == hi {
		if f.req >= 0 && e.inAny == 0 {
			return first, ErrOutput // required field not set
		}
		if e.s.opts.EmitUnpopulated && f.oneof < 0 && !f.fd.IsExtension() {
			first = e.comma(first, f)
			e.emitUnset(f)
		}
		return first, nil
	}
	if !f.presence && !f.list && !f.isMap && !f.isMsg() &&
		!e.s.opts.EmitUnpopulated && isZeroValue(f, b[e.ents[hi-1].start:e.ents[hi-1].end]) {
		return first, nil
	}
	first = e.comma(first, f)
	return first, e.emitValue(f, b, lo, hi)
}

func (e *codecState) pop(base, cbase int) {
	e.ents, e.cnt = e.ents[:base], e.cnt[:cbase]
}

// oneofRun narrows the run [lo,hi) of oneof member f (index i) to the
// entries that set it last: a later member of the oneof clears it, and an
// earlier streak of f was cleared by another member in between.
func (e *codecState) oneofRun(cbase int, f *fieldPlan, i, lo, hi int) int {
	if lo == hi || e.cnt[cbase+2*f.oneof] != int32(i) {
		return hi
	}
	cut := e.cnt[cbase+2*f.oneof+1]
	for lo < hi && e.ents[lo].seq < cut {
		lo++
	}
	return lo
}

// collect records the known fields of wire message b in e.ents[base:],
// sorted by field index (stable: wire order within a field), and for each
// oneof, in e.cnt[cbase:], the member set last and where its streak began.
func (e *codecState) collect(p *Plan, b []byte) (base, n, cbase int, err error) {
	base, cbase = len(e.ents), len(e.cnt)
	for i := 0; i < p.nOneofs; i++ {
		e.cnt = append(e.cnt, -1, 0)
	}
	sorted, last := true, int32(-1)
	for off, seq := 0, int32(0); off < len(b); seq++ {
		num, wt, tn := consumeTag(b[off:])
		if tn < 0 {
			return base, 0, cbase, ErrWire
		}
		start, vn := off+tn, valueLen(num, wt, b[off+tn:])
		if vn < 0 {
			return base, 0, cbase, ErrWire
		}
		if wt == protowire.BytesType { // payload only
			_, k := protowire.ConsumeVarint(b[start:])
			start += k
		}
		off += tn + vn
		f := p.field(num)
		if f == nil || (wt != f.wt && !(wt == protowire.BytesType && f.packable)) {
			continue
		}
		end := off
		switch {
		case wt == protowire.StartGroupType:
			end = start + groupLen(b[start:off])
		case f.closed && wt == protowire.VarintType && f.enum.quotedName(int32(wireBits(wt, b[start:off]))) == nil:
			continue // an unknown field to proto.Unmarshal
		}
		idx := f.index
		if o := f.oneof; o >= 0 && e.cnt[cbase+2*o] != idx {
			e.cnt[cbase+2*o], e.cnt[cbase+2*o+1] = idx, seq
		}
		if idx < last {
			sorted = false
		}
		last = idx
		e.ents = append(e.ents, wireEnt{idx: idx, seq: seq, wt: wt, start: int32(start), end: int32(end)})
	}
	n = len(e.ents) - base
	if !sorted {
		slices.SortStableFunc(e.ents[base:], func(a, b wireEnt) int { return int(a.idx - b.idx) })
	}
	return base, n, cbase, nil
}

// emitValue writes the value of field f from its entries e.ents[lo:hi].
func (e *codecState) emitValue(f *fieldPlan, b []byte, lo, hi int) error {
	switch {
	case f.isMap:
		return e.emitMap(f, b, lo, hi)
	case f.list:
		return e.emitList(f, b, lo, hi)
	case f.isMsg():
		return e.emitMessage(f.msg, e.merged(b, lo, hi), nil)
	}
	ent := e.ents[hi-1]
	return e.emitScalar(f, b[ent.start:ent.end])
}

// merged returns the payload of a singular message field: occurrences on
// the wire merge, which for wire bytes is concatenation. Repeats are rare,
// so they may allocate.
func (e *codecState) merged(b []byte, lo, hi int) []byte {
	if hi-lo == 1 {
		return b[e.ents[lo].start:e.ents[lo].end]
	}
	var m []byte
	for q := lo; q < hi; q++ {
		m = append(m, b[e.ents[q].start:e.ents[q].end]...)
	}
	return m
}

func (e *codecState) emitList(f *fieldPlan, b []byte, lo, hi int) error {
	e.dst = append(e.dst, '[')
	first := true
	for q := lo; q < hi; q++ {
		ent := e.ents[q]
		v := b[ent.start:ent.end]
		if ent.wt != protowire.BytesType || !f.packable {
			if !first {
				e.dst = append(e.dst, ',')
			}
			first = false
			var err error
			if f.isMsg() {
				err = e.emitMessage(f.msg, v, nil)
			} else {
				err = e.emitScalar(f, v)
			}
			if err != nil {
				return err
			}
			continue
		}
		for len(v) > 0 { // packed run
			n := elemLen(f.wt, v)
			if n < 0 {
				return ErrWire
			}
			if f.closed && f.enum.quotedName(int32(wireBits(f.wt, v[:n]))) == nil {
				v = v[n:]
				continue
			}
			if !first {
				e.dst = append(e.dst, ',')
			}
			first = false
			if err := e.emitScalar(f, v[:n]); err != nil {
				return err
			}
			v = v[n:]
		}
	}
	e.dst = append(e.dst, ']')
	return nil
}

// consumeTag is protowire.ConsumeTag with the one-byte case inline.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 && b[0] >= 8 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return protowire.ConsumeTag(b)
}

// valueLen returns the length of the field value at the start of v
// (length prefix included), or a negative protowire error code.
func valueLen(num protowire.Number, wt protowire.Type, v []byte) int {
	switch wt {
	case protowire.VarintType:
		if len(v) > 0 && v[0] < 0x80 {
			return 1
		}
		_, n := protowire.ConsumeVarint(v)
		return n
	case protowire.Fixed32Type:
		_, n := protowire.ConsumeFixed32(v)
		return n
	case protowire.Fixed64Type:
		_, n := protowire.ConsumeFixed64(v)
		return n
	case protowire.BytesType:
		if len(v) > 0 && v[0] < 0x80 {
			if int(v[0]) >= len(v) {
				return -1
			}
			return 1 + int(v[0])
		}
		_, n := protowire.ConsumeBytes(v)
		return n
	}
	return protowire.ConsumeFieldValue(num, wt, v)
}

// groupLen returns the length of a group's content: b runs from after the
// start tag to after the end tag, which ConsumeFieldValue checked.
func groupLen(b []byte) int {
	n := 0
	for {
		num, wt, tn := protowire.ConsumeTag(b[n:])
		if wt == protowire.EndGroupType {
			return n
		}
		n += tn + protowire.ConsumeFieldValue(num, wt, b[n+tn:])
	}
}

func elemLen(wt protowire.Type, v []byte) int {
	switch wt {
	case protowire.VarintType:
		_, n := protowire.ConsumeVarint(v)
		return n
	case protowire.Fixed32Type:
		_, n := protowire.ConsumeFixed32(v)
		return n
	default:
		_, n := protowire.ConsumeFixed64(v)
		return n
	}
}
