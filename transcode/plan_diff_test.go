package transcode

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// refUnmarshal is the reference JSON reader: protojson into dynamicpb.
func (z *zoo) refUnmarshal(md protoreflect.MessageDescriptor, js []byte, opts Options) (proto.Message, error) {
	m := dynamicpb.NewMessage(md)
	err := protojson.UnmarshalOptions{
		DiscardUnknown: opts.DiscardUnknown,
		Resolver:       z.types,
		RecursionLimit: opts.MaxDepth,
	}.Unmarshal(js, m)
	return m, err
}

// parseWire decodes wire bytes into a dynamic message.
func (z *zoo) parseWire(md protoreflect.MessageDescriptor, b []byte) (proto.Message, error) {
	m := dynamicpb.NewMessage(md)
	err := proto.UnmarshalOptions{Resolver: z.types}.Unmarshal(b, m)
	return m, err
}

// equal compares messages after re-encoding every Any's value
// deterministically: Any holds bytes, and field order inside them is not
// part of the JSON mapping.
func (z *zoo) equal(a, b proto.Message) bool {
	return proto.Equal(z.normalize(a), z.normalize(b))
}

func (z *zoo) normalize(m proto.Message) proto.Message {
	c := proto.Clone(m)
	z.normalizeAny(c.ProtoReflect())
	return c
}

func (z *zoo) normalizeAny(m protoreflect.Message) {
	if m.Descriptor().FullName() == "google.protobuf.Any" {
		fds := m.Descriptor().Fields()
		url, val := fds.ByNumber(1), fds.ByNumber(2)
		mt, err := z.types.FindMessageByURL(m.Get(url).String())
		if err != nil {
			return
		}
		em := mt.New()
		if proto.Unmarshal(m.Get(val).Bytes(), em.Interface()) != nil {
			return
		}
		z.normalizeAny(em)
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(em.Interface())
		if len(b) == 0 {
			m.Clear(val)
		} else {
			m.Set(val, protoreflect.ValueOfBytes(b))
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					z.normalizeAny(mv.Message())
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i := 0; i < v.List().Len(); i++ {
					z.normalizeAny(v.List().Get(i).Message())
				}
			}
		case fd.Message() != nil:
			z.normalizeAny(v.Message())
		}
		return true
	})
}

// checkJSON runs one JSON input through AppendWire and protojson: both
// reject it, or both accept it with equal messages. It returns the
// reference message when accepted.
func checkJSON(t testing.TB, z *zoo, s *Schema, name string, js []byte) proto.Message {
	t.Helper()
	p := s.Plan(protoreflect.FullName(name))
	want, werr := z.refUnmarshal(p.Descriptor(), js, s.opts)
	got, gerr := p.AppendWire([]byte("prefix"), js)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s %q (opts %+v):\n got err %v\nwant err %v", name, js, s.opts, gerr, werr)
	}
	if werr != nil {
		if string(got) != "prefix" {
			t.Fatalf("%s %q: dst changed on error", name, js)
		}
		return nil
	}
	if string(got[:6]) != "prefix" {
		t.Fatalf("%s %q: prefix lost", name, js)
	}
	m, err := z.parseWire(p.Descriptor(), got[6:])
	if err != nil {
		t.Fatalf("%s %q: wire does not parse: %v (%x)", name, js, err, got[6:])
	}
	if !z.equal(m, want) {
		t.Fatalf("%s %q:\n got %v\nwant %v", name, js, m, want)
	}
	return want
}

// checkWire runs one message through AppendJSON and protojson: its wire
// form is what the gateway sees, so the reference is protojson on the
// message proto.Unmarshal makes of it (a closed enum's unknown number, for
// one, becomes an unknown field there). See checkRawWire.
func checkWire(t testing.TB, z *zoo, s *Schema, m proto.Message) {
	t.Helper()
	wire, err := proto.MarshalOptions{Deterministic: true, AllowPartial: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	checkRawWire(t, z, s, m.ProtoReflect().Descriptor(), wire)
}

var optionSets = []Options{
	{},
	{DiscardUnknown: true},
	{EmitUnpopulated: true, UseProtoNames: true},
	{UseEnumNumbers: true},
}

func runCases(t *testing.T, cases []jsonCase) { runCasesWith(t, optionSets, cases) }

func runCasesWith(t *testing.T, opts []Options, cases []jsonCase) {
	z := loadZoo(t)
	var schemas []*Schema
	for _, o := range opts {
		schemas = append(schemas, z.schema(t, o))
	}
	for _, c := range cases {
		for _, s := range schemas {
			m := checkJSON(t, z, s, c.msg, []byte(c.json))
			if m != nil {
				checkWire(t, z, s, m)
			}
		}
	}
}

type jsonCase struct{ msg, json string }
