package transcode

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// anyValue reads a google.protobuf.Any: {"@type": URL, ...fields} or, when
// the embedded type is well-known, {"@type": URL, "value": ...}. The type
// must be in the schema. As protojson, "@type" may come anywhere in the
// object, so a first pass finds it.
func (d *codecState) anyValue(p *Plan) error {
	if d.peek() != '{' {
		return d.errUnexpected()
	}
	start := d.pos
	urlRaw, members, err := d.findTypeURL()
	if err != nil {
		return err
	}
	if urlRaw == nil {
		if members == 0 {
			return nil // {} is an empty Any
		}
		d.pos = start
		if d.s.opts.DiscardUnknown {
			return d.skipValue(d.depth)
		}
		return &Error{Offset: start, Msg: `missing "@type" field in google.protobuf.Any`}
	}
	d.tmp = appendUnescaped(d.tmp[:0], urlRaw)
	ep := d.s.planByURL(d.tmp)
	if ep == nil {
		return &Error{Offset: start, Msg: "unable to resolve google.protobuf.Any type " + quoteRaw(d.tmp)}
	}
	d.dst = protowire.AppendBytes(append(d.dst, 1<<3|2), d.tmp)
	mark := len(d.dst)
	d.dst = append(d.dst, 2<<3|2)
	at := d.open()
	d.pos = start
	d.inAny++ // no required-field checks inside an Any, as protojson
	defer func() { d.inAny-- }()
	if ep.wkt != wktNone {
		err = d.anyWKT(ep)
	} else {
		d.depth--
		if d.depth < 0 {
			err = &Error{Offset: d.pos, Msg: "exceeded max recursion depth"}
		} else {
			err = d.object(ep, true)
		}
		d.depth++
	}
	if len(d.dst) == at {
		d.dst = d.dst[:mark] // empty value: proto.Marshal leaves it out
		return err
	}
	d.close(at)
	return err
}

// findTypeURL scans the object at pos for "@type" and returns the raw
// content of its string and the number of members; pos is left after the
// object. Duplicate or non-string "@type" is an error.
func (d *codecState) findTypeURL() (url []byte, members int, err error) {
	d.pos++
	if d.peek() == '}' {
		d.pos++
		return nil, 0, nil
	}
	for {
		at := d.pos
		name, err := d.readName()
		if err != nil {
			return nil, 0, err
		}
		members++
		if string(name) != "@type" {
			if err := d.skipValue(d.depth); err != nil {
				return nil, 0, err
			}
		} else {
			if url != nil {
				return nil, 0, &Error{Offset: at, Msg: `duplicate "@type" field`}
			}
			if d.peek() != '"' {
				return nil, 0, &Error{Offset: d.pos, Msg: "@type field value is not a string"}
			}
			raw, _, err := d.str()
			if err != nil {
				return nil, 0, err
			}
			if len(raw) == 0 {
				return nil, 0, &Error{Offset: at, Msg: "@type field contains empty value"}
			}
			url = raw
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return url, members, nil
		default:
			return nil, 0, d.errUnexpected()
		}
	}
}

// anyWKT reads {"@type": ..., "value": <special JSON>} for an embedded
// well-known type (protojson's unmarshalAnyValue).
func (d *codecState) anyWKT(ep *Plan) error {
	d.pos++ // '{', not empty: findTypeURL saw "@type"
	found := false
	for {
		at := d.pos
		name, err := d.readName()
		if err != nil {
			return err
		}
		switch string(name) {
		case "@type":
			err = d.skipValue(d.depth)
		case "value":
			if found {
				return &Error{Offset: at, Msg: `duplicate "value" field`}
			}
			found = true
			err = d.wktValue(ep)
		default:
			if !d.s.opts.DiscardUnknown {
				return &Error{Offset: at, Msg: "unknown field " + quoteRaw(d.in[at:d.pos-1])}
			}
			err = d.skipValue(d.depth)
		}
		if err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			if !found && ep.wkt != wktEmpty {
				return &Error{Offset: at, Msg: `missing "value" field in google.protobuf.Any`}
			}
			return nil
		default:
			return d.errUnexpected()
		}
	}
}
