package transcode

import "google.golang.org/protobuf/encoding/protowire"

// emitAny writes a google.protobuf.Any with its embedded message resolved
// in the schema: {"@type": URL, ...fields} or {"@type": URL, "value": ...}
// for well-known types.
func (e *codecState) emitAny(p *Plan, b []byte) error {
	var url, val []byte
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ErrWire
		}
		b = b[n:]
		vn := protowire.ConsumeFieldValue(num, wt, b)
		if vn < 0 {
			return ErrWire
		}
		if wt == protowire.BytesType && (num == 1 || num == 2) {
			v, _ := protowire.ConsumeBytes(b[:vn])
			if num == 1 {
				url = v
			} else {
				val = v
			}
		}
		b = b[vn:]
	}
	if len(url) == 0 {
		if len(val) == 0 {
			e.dst = append(e.dst, '{', '}')
			return nil
		}
		return ErrOutput
	}
	if !validUTF8(url) {
		return ErrWire
	}
	ep := e.s.planByURL(url)
	if ep == nil {
		return ErrOutput
	}
	e.inAny++ // no required-field checks inside an Any, as protojson
	defer func() { e.inAny-- }()
	if ep.wkt == wktNone || ep.wkt == wktEmpty { // protojson writes Empty as a plain message here
		e.depth++ // the embedded message is not a level of its own
		err := e.emitMessage(ep, val, url)
		e.depth--
		return err
	}
	e.dst = append(e.dst, `{"@type":`...)
	e.dst, _ = appendJSONString(e.dst, url)
	e.dst = append(e.dst, `,"value":`...)
	if err := e.emitMessage(ep, val, nil); err != nil {
		return err
	}
	e.dst = append(e.dst, '}')
	return nil
}
