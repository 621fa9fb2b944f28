package transcode

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// AppendWire appends the protobuf wire form of the message whose JSON form
// is json (the proto3 JSON mapping, as protojson.Unmarshal reads it). On
// error dst is returned unchanged and the error is an *Error.
func (p *Plan) AppendWire(dst, json []byte) ([]byte, error) {
	d := p.s.getState()
	d.in, d.dst, d.depth = json, dst, p.s.opts.MaxDepth
	err := d.message(p)
	if err == nil && !d.atEnd() {
		err = d.errUnexpected()
	}
	out := d.dst
	p.s.putState(d)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendFieldWire appends the tag and value of field fd of p's message from
// the JSON value of that field alone (a google.api.http body: "field").
func (p *Plan) AppendFieldWire(dst []byte, fd protoreflect.FieldDescriptor, json []byte) ([]byte, error) {
	f := p.fieldFor(fd)
	if f == nil {
		return dst, errNoField(p, fd)
	}
	d := p.s.getState()
	d.in, d.dst, d.depth = json, dst, p.s.opts.MaxDepth-1
	var err error
	if !f.isValue && !f.nullValue && d.peek() == 'n' && d.literal("null") {
		// null leaves the field unset, as in an object
	} else {
		err = d.fieldValue(f)
	}
	if err == nil && !d.atEnd() {
		err = d.errUnexpected()
	}
	out := d.dst
	p.s.putState(d)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// message reads one message value; it counts a nesting level as protojson
// does for each message it unmarshals.
func (d *codecState) message(p *Plan) error {
	d.depth--
	defer func() { d.depth++ }()
	if d.depth < 0 {
		return &Error{Offset: d.pos, Msg: "exceeded max recursion depth"}
	}
	if p.wkt != wktNone {
		return d.wktValue(p)
	}
	if p.msgSet {
		return &Error{Offset: d.pos, Msg: "no support for proto1 MessageSets"}
	}
	if d.peek() != '{' {
		return d.errUnexpected()
	}
	return d.object(p, false)
}

// object reads the members of a JSON object into p's fields; d.pos is at
// '{'. skipType skips "@type" members (an Any's embedded message).
func (d *codecState) object(p *Plan, skipType bool) error {
	d.pos++
	seen := d.pushSeen(len(p.fields) + p.nOneofs + p.nReq)
	defer func() { d.seen = d.seen[:seen] }()
	if d.peek() == '}' {
		d.pos++
		return d.checkRequired(p, seen)
	}
	for {
		start := d.pos
		name, err := d.readName()
		if err != nil {
			return err
		}
		if err := d.member(p, seen, name, start, skipType); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return d.checkRequired(p, seen)
		default:
			return d.errUnexpected()
		}
	}
}

// checkRequired fails when a proto2 required field was not set, as
// protojson's final proto.CheckInitialized does (which does not look into
// the bytes of an Any).
func (d *codecState) checkRequired(p *Plan, seen int) error {
	if p.nReq == 0 || d.inAny > 0 {
		return nil
	}
	base := len(p.fields) + p.nOneofs
	for i := range p.fields {
		if f := &p.fields[i]; f.req >= 0 && !d.testAndSet(seen, base+f.req) {
			return &Error{Offset: d.pos, Field: f.name, Msg: "required field " + string(f.fd.FullName()) + " not set"}
		}
	}
	return nil
}

// member reads the value of the object member called name.
func (d *codecState) member(p *Plan, seen int, name []byte, at int, skipType bool) error {
	if skipType && string(name) == "@type" {
		return d.skipValue(d.depth)
	}
	i, ok := p.names.find(name)
	if !ok {
		if n := len(name); n > 2 && name[0] == '[' && name[n-1] == ']' && d.s.known[protoreflect.FullName(name[1:n-1])] {
			return &Error{Offset: at, Msg: "message " + string(p.md.FullName()) + " cannot be extended by " + string(name[1:n-1])}
		}
		if d.s.opts.DiscardUnknown {
			return d.skipValue(d.depth)
		}
		return &Error{Offset: at, Msg: "unknown field " + quoteRaw(d.in[at:d.pos-1])}
	}
	f := &p.fields[i]
	if d.testAndSet(seen, int(i)) {
		return &Error{Offset: at, Field: f.name, Msg: "duplicate field " + quoteRaw(d.in[at:d.pos-1])}
	}
	if d.peek() == 'n' && !f.isValue && !f.nullValue && d.literal("null") {
		return nil
	}
	if f.oneof >= 0 && !f.list && !f.isMap {
		if d.testAndSet(seen, len(p.fields)+f.oneof) {
			return &Error{Offset: at, Field: f.name, Msg: "field " + f.name + ": oneof " + string(f.fd.ContainingOneof().FullName()) + " is already set"}
		}
	}
	err := d.fieldValue(f)
	if err == nil && f.req >= 0 {
		d.testAndSet(seen, len(p.fields)+p.nOneofs+f.req)
	}
	return err
}

// fieldValue reads the JSON value of field f and appends its wire form.
func (d *codecState) fieldValue(f *fieldPlan) error {
	switch {
	case f.list:
		return d.list(f)
	case f.isMap:
		return d.mapValue(f)
	case f.isMsg():
		return d.nested(f)
	}
	_, err := d.scalar(f, true, !f.presence)
	return err
}

// nested appends one message value of f: length-delimited, or between
// start and end tags for a group.
func (d *codecState) nested(f *fieldPlan) error {
	d.dst = protowire.AppendVarint(d.dst, f.tag)
	if f.group {
		err := d.message(f.msg)
		d.dst = protowire.AppendVarint(d.dst, f.endTag)
		return err
	}
	at := d.open()
	err := d.message(f.msg)
	d.close(at)
	return err
}

// open reserves one length byte for a length-delimited value and returns
// where its content starts; close fixes the length, shifting the content
// when it needs a longer varint. Most nested values are short, so content
// is written once.
func (d *codecState) open() int {
	d.dst = append(d.dst, 0)
	return len(d.dst)
}

func (d *codecState) close(at int) {
	n := len(d.dst) - at
	if n < 0x80 {
		d.dst[at-1] = byte(n)
		return
	}
	k := protowire.SizeVarint(uint64(n))
	for i := 1; i < k; i++ {
		d.dst = append(d.dst, 0)
	}
	copy(d.dst[at-1+k:], d.dst[at:at+n])
	protowire.AppendVarint(d.dst[:at-1], uint64(n))
}

// list reads a JSON array into repeated field f.
func (d *codecState) list(f *fieldPlan) error {
	if d.peek() != '[' {
		return d.errUnexpected()
	}
	d.pos++
	at := -1
	if f.packed {
		d.dst = protowire.AppendVarint(d.dst, f.packedTag)
		at = d.open()
	}
	err := d.elements(f)
	if at >= 0 {
		if len(d.dst) == at { // nothing written: drop the empty run
			d.dst = d.dst[:at-1-protowire.SizeVarint(f.packedTag)]
		} else {
			d.close(at)
		}
	}
	return err
}

func (d *codecState) elements(f *fieldPlan) error {
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for {
		var err error
		if f.isMsg() {
			err = d.nested(f)
		} else {
			_, err = d.scalar(f, !f.packed, false)
		}
		if err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.errUnexpected()
		}
	}
}
