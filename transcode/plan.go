package transcode

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Plan is the compiled form of one message: its fields with precomputed
// tags, names and nested plans. Plans are immutable and shared.
//
// The codecs built on plans follow protojson exactly (it is the reference
// of the differential and fuzz tests): the same inputs are accepted, the
// same messages result, and the JSON written is protojson's, compacted.
// JSON is read by a hand-written scanner straight into wire bytes (nested
// lengths are reserved and patched); wire bytes are read once per message
// into a scratch list of field occurrences, which gives protojson's field
// order and the wire's merge rules. Scratch lives in pooled per-call state,
// so neither direction allocates in steady state.
type Plan struct {
	s       *Schema
	md      protoreflect.MessageDescriptor
	wkt     wktKind
	fields  []fieldPlan // declaration order, the order protojson writes
	names   nameTable   // JSON and proto names -> index in fields
	byNum   []int32     // field number -> index+1, for small numbers
	numMap  map[protowire.Number]int32
	nOneofs int
	nReq    int  // required fields (proto2)
	msgSet  bool // proto1 MessageSet: no JSON form, as in protojson
	stream  bool // see streamable
}

// fieldPlan is everything the codecs need about one field, computed once.
type fieldPlan struct {
	fd        protoreflect.FieldDescriptor
	index     int32  // in Plan.fields
	name      string // protojson's JSON name, for errors
	outName   []byte // `"name":` as written (JSON or proto name per Options)
	num       protowire.Number
	kind      protoreflect.Kind
	wt        protowire.Type // wire type of one element
	tag       uint64         // tag of one element
	packedTag uint64         // tag of a packed run (list of scalars)
	list      bool
	isMap     bool
	packed    bool // write lists packed
	packable  bool // accept packed runs on the wire
	presence  bool // explicit presence: write zero values too
	oneof     int  // index of the containing oneof (synthetic included), or -1
	utf8      bool // strings must be valid UTF-8
	msg       *Plan
	enum      *enumPlan
	key, val  *fieldPlan // map entry fields
	nullValue bool       // enum google.protobuf.NullValue
	isValue   bool       // message google.protobuf.Value
	group     bool       // proto2 group: delimited by start and end tags
	endTag    uint64     // end tag of a group
	closed    bool       // closed (proto2) enum: unknown numbers are unknown fields
	req       int        // index among required fields, or -1
}

// Descriptor returns the message descriptor the plan was compiled from.
func (p *Plan) Descriptor() protoreflect.MessageDescriptor { return p.md }

func (p *Plan) compile() error {
	p.wkt = wktOf(p.md.FullName())
	p.msgSet = p.md.Options() != nil && messageSetWire(p.md)
	fds := p.md.Fields()
	exts := p.s.exts[p.md.FullName()] // sorted by full name: protojson's order
	p.fields = make([]fieldPlan, fds.Len()+len(exts))
	maxSmall := protowire.Number(0)
	for i := range p.fields {
		fd := protoreflect.FieldDescriptor(nil)
		if i < fds.Len() {
			fd = fds.Get(i)
		} else {
			fd = exts[i-fds.Len()]
		}
		f := &p.fields[i]
		if err := p.compileField(f, fd); err != nil {
			return err
		}
		f.index, f.req = int32(i), -1
		if fd.Cardinality() == protoreflect.Required {
			f.req, p.nReq = p.nReq, p.nReq+1
		}
		if fd.Number() < 1024 && fd.Number() > maxSmall {
			maxSmall = fd.Number()
		}
	}
	p.nOneofs = p.md.Oneofs().Len()
	p.byNum = make([]int32, maxSmall+1)
	for i := range p.fields {
		n := p.fields[i].num
		if n <= maxSmall {
			p.byNum[n] = int32(i + 1)
			continue
		}
		if p.numMap == nil {
			p.numMap = map[protowire.Number]int32{}
		}
		p.numMap[n] = int32(i + 1)
	}
	p.names = newNameTable(p.lookupNames())
	p.stream = p.streamable()
	return nil
}

// lookupNames lists the names JSON input may use for each field: JSON
// names first (they win over proto names, as in protojson), then proto
// names; extensions only as "[full.name]".
func (p *Plan) lookupNames() ([]string, []int32) {
	keys := make([]string, 0, 2*len(p.fields))
	vals := make([]int32, 0, 2*len(p.fields))
	for pass := 0; pass < 2; pass++ {
		for i := range p.fields {
			fd := p.fields[i].fd
			switch {
			case fd.IsExtension():
				if pass == 0 {
					keys = append(keys, "["+string(fd.FullName())+"]")
					vals = append(vals, int32(i))
				}
				continue
			case pass == 0:
				keys = append(keys, fd.JSONName())
			default:
				keys = append(keys, fd.TextName())
			}
			vals = append(vals, int32(i))
		}
	}
	return keys, vals
}

func (p *Plan) compileField(f *fieldPlan, fd protoreflect.FieldDescriptor) error {
	f.fd, f.name, f.num, f.kind = fd, fd.JSONName(), fd.Number(), fd.Kind()
	out := fd.JSONName()
	if p.s.opts.UseProtoNames {
		out = fd.TextName()
	}
	if fd.IsExtension() {
		out = "[" + string(fd.FullName()) + "]"
		f.name = out
	}
	f.outName = append(appendQuoted(nil, out), ':')
	f.list, f.isMap = fd.IsList(), fd.IsMap()
	f.presence = fd.HasPresence()
	f.oneof = -1
	if od := fd.ContainingOneof(); od != nil {
		f.oneof = od.Index()
	}
	f.utf8 = fd.Kind() == protoreflect.StringKind && enforceUTF8(fd)
	f.wt = wireTypes[f.kind]
	f.tag = uint64(protowire.EncodeTag(f.num, f.wt))
	f.packedTag = uint64(protowire.EncodeTag(f.num, protowire.BytesType))
	f.packable = f.list && f.wt != protowire.BytesType && f.wt != protowire.StartGroupType
	f.packed = f.packable && fd.IsPacked()
	switch f.kind {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		f.group = f.kind == protoreflect.GroupKind
		f.endTag = uint64(protowire.EncodeTag(f.num, protowire.EndGroupType))
		f.msg = p.s.plans[fd.Message().FullName()]
		if f.msg == nil {
			return fmt.Errorf("%w: %s: message %s not loaded", ErrDescriptor, fd.FullName(), fd.Message().FullName())
		}
		f.isValue = fd.Message().FullName() == "google.protobuf.Value"
	case protoreflect.EnumKind:
		f.enum = p.s.enumPlan(fd.Enum())
		f.closed = fd.Enum().IsClosed()
		f.nullValue = fd.Enum().FullName() == "google.protobuf.NullValue"
	}
	return nil
}

// link points map fields at their entry's key and value plans, once every
// plan is compiled.
func (p *Plan) link() error {
	for i := range p.fields {
		f := &p.fields[i]
		if !f.isMap {
			continue
		}
		f.key, f.val = f.msg.field(1), f.msg.field(2)
		if f.key == nil || f.val == nil {
			return fmt.Errorf("%w: %s: bad map entry", ErrDescriptor, f.fd.FullName())
		}
	}
	return nil
}

// field returns the field plan for a wire field number, or nil.
func (p *Plan) field(n protowire.Number) *fieldPlan {
	if int(n) < len(p.byNum) {
		if i := p.byNum[n]; i > 0 {
			return &p.fields[i-1]
		}
		return nil
	}
	if i := p.numMap[n]; i > 0 {
		return &p.fields[i-1]
	}
	return nil
}

// fieldFor returns the field plan of fd, which must belong to p's message.
func (p *Plan) fieldFor(fd protoreflect.FieldDescriptor) *fieldPlan {
	if fd == nil || fd.ContainingMessage().FullName() != p.md.FullName() {
		return nil
	}
	return p.field(fd.Number())
}

var wireTypes = [...]protowire.Type{
	protoreflect.BoolKind:     protowire.VarintType,
	protoreflect.EnumKind:     protowire.VarintType,
	protoreflect.Int32Kind:    protowire.VarintType,
	protoreflect.Sint32Kind:   protowire.VarintType,
	protoreflect.Uint32Kind:   protowire.VarintType,
	protoreflect.Int64Kind:    protowire.VarintType,
	protoreflect.Sint64Kind:   protowire.VarintType,
	protoreflect.Uint64Kind:   protowire.VarintType,
	protoreflect.Sfixed32Kind: protowire.Fixed32Type,
	protoreflect.Fixed32Kind:  protowire.Fixed32Type,
	protoreflect.FloatKind:    protowire.Fixed32Type,
	protoreflect.Sfixed64Kind: protowire.Fixed64Type,
	protoreflect.Fixed64Kind:  protowire.Fixed64Type,
	protoreflect.DoubleKind:   protowire.Fixed64Type,
	protoreflect.StringKind:   protowire.BytesType,
	protoreflect.BytesKind:    protowire.BytesType,
	protoreflect.MessageKind:  protowire.BytesType,
	protoreflect.GroupKind:    protowire.StartGroupType,
}

// messageSetWire reports the proto1 message_set_wire_format option.
func messageSetWire(md protoreflect.MessageDescriptor) bool {
	type messageSet interface{ GetMessageSetWireFormat() bool }
	o, ok := md.Options().(messageSet)
	return ok && o.GetMessageSetWireFormat()
}

// isMsg reports message-valued fields (messages and groups).
func (f *fieldPlan) isMsg() bool {
	return f.kind == protoreflect.MessageKind || f.kind == protoreflect.GroupKind
}

// enumPlan returns the shared plan of an enum, compiled on first use.
func (s *Schema) enumPlan(ed protoreflect.EnumDescriptor) *enumPlan {
	if e := s.enums[ed.FullName()]; e != nil {
		return e
	}
	e := newEnumPlan(ed)
	s.enums[ed.FullName()] = e
	return e
}

func errNoField(p *Plan, fd protoreflect.FieldDescriptor) error {
	name := "<nil>"
	if fd != nil {
		name = string(fd.FullName())
	}
	return &Error{Offset: -1, Msg: "no field " + name + " in " + string(p.md.FullName())}
}

// enforceUTF8 reports whether string field fd must hold valid UTF-8, as
// protobuf-go decides: always in proto3, never in proto2, per the
// utf8_validation feature in editions.
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	if fd.Syntax() == protoreflect.Editions {
		if e, ok := fd.(interface{ EnforceUTF8() bool }); ok {
			return e.EnforceUTF8()
		}
	}
	return fd.Syntax() == protoreflect.Proto3
}
