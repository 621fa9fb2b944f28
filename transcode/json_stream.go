package transcode

import "google.golang.org/protobuf/encoding/protowire"

// streamable reports whether messages of p may take the one-pass path:
// no oneofs, maps, required fields, closed enums or groups, and fields
// declared in number order (the order proto.Marshal writes them in).
func (p *Plan) streamable() bool {
	if p.wkt != wktNone || p.msgSet || p.nReq > 0 || p.nOneofs > 0 {
		return false
	}
	for i := range p.fields {
		f := &p.fields[i]
		if f.isMap || f.closed || f.group || (i > 0 && f.num < p.fields[i-1].num) {
			return false
		}
	}
	return true
}

// inOrder reports whether wire message b has its known fields in
// declaration order, each singular one once (what proto.Marshal writes),
// so that emitStream applies. A tag walk is cheap next to the output, and
// deciding up front means an error from emitStream is final: retrying on
// error would redo nested work once per level.
func (p *Plan) inOrder(b []byte) bool {
	cur := int32(-1)
	for off := 0; off < len(b); {
		num, wt, tn := consumeTag(b[off:])
		if tn < 0 {
			return false
		}
		vn := valueLen(num, wt, b[off+tn:])
		if vn < 0 {
			return false
		}
		off += tn + vn
		f := p.field(num)
		if f == nil || (wt != f.wt && !(wt == protowire.BytesType && f.packable)) {
			continue
		}
		if f.index < cur || (f.index == cur && !f.list) {
			return false
		}
		cur = f.index
	}
	return true
}

// emitStream writes message b, which inOrder accepted, in one pass,
// without collecting its fields first.
func (e *codecState) emitStream(p *Plan, b []byte, typeURL []byte) error {
	e.dst = append(e.dst, '{')
	first := true
	if typeURL != nil {
		e.dst = append(e.dst, `"@type":`...)
		e.dst, _ = appendJSONString(e.dst, typeURL)
		first = false
	}
	cur, list, empty := int32(-1), false, true // current field; list open; no element yet
	for off := 0; off < len(b); {
		num, wt, tn := consumeTag(b[off:])
		start, vn := off+tn, valueLen(num, wt, b[off+tn:]) // valid: inOrder walked it
		if wt == protowire.BytesType {
			_, k := protowire.ConsumeVarint(b[start:])
			start += k
		}
		v := b[start : off+tn+vn]
		off += tn + vn
		f := p.field(num)
		if f == nil || (wt != f.wt && !(wt == protowire.BytesType && f.packable)) {
			continue // unknown
		}
		if f.index != cur {
			if list && !empty {
				e.dst = append(e.dst, ']')
			}
			cur, list, empty = f.index, f.list, true
		}
		var err error
		if f.list {
			first, empty, err = e.streamElems(f, wt, v, first, empty)
		} else {
			first, err = e.streamSingular(f, v, first)
		}
		if err != nil {
			return err
		}
	}
	if list && !empty {
		e.dst = append(e.dst, ']')
	}
	e.dst = append(e.dst, '}')
	return nil
}

func (e *codecState) streamSingular(f *fieldPlan, v []byte, first bool) (bool, error) {
	if f.isMsg() {
		first = e.comma(first, f)
		return first, e.emitMessage(f.msg, v, nil)
	}
	if !f.presence && isZeroValue(f, v) {
		return first, nil
	}
	first = e.comma(first, f)
	return first, e.emitScalar(f, v)
}

// streamElems writes the elements of one occurrence of list f; the
// field's name and '[' come with its first element, so that a field of
// empty packed runs stays out, as protojson leaves empty lists.
func (e *codecState) streamElems(f *fieldPlan, wt protowire.Type, v []byte, first, empty bool) (bool, bool, error) {
	next := func() {
		if empty {
			first = e.comma(first, f)
			e.dst = append(e.dst, '[')
			empty = false
		} else {
			e.dst = append(e.dst, ',')
		}
	}
	if wt != protowire.BytesType || !f.packable {
		next()
		if f.isMsg() {
			return first, empty, e.emitMessage(f.msg, v, nil)
		}
		return first, empty, e.emitScalar(f, v)
	}
	for len(v) > 0 {
		n := elemLen(f.wt, v)
		if n < 0 {
			return first, empty, ErrWire
		}
		next()
		if err := e.emitScalar(f, v[:n]); err != nil {
			return first, empty, err
		}
		v = v[n:]
	}
	return first, empty, nil
}
