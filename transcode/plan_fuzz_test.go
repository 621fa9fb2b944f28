package transcode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

var fuzzMessages = []string{zScalars, zRepeated, zMaps, zOneofs, zWKT, zNode, zNames, zZoo, zConf, zConf2, zConfReq, zConf23}

var fuzzJSONSeeds = []string{
	`{}`, `{"i32":1,"s":"x\u00e9","by":"AA==","color":"RED"}`,
	`{"i32":[1,2],"msgs":[{"i64":"5"}]}`, `{"ss":{"a":"b"},"ii":{"-1":2},"bs":{"true":"x"}}`,
	`{"num":1,"str":"x"}`, `{"optI32":0}`,
	`{"any":{"@type":"type.googleapis.com/strait.codec.zoo.Scalars","i32":5}}`,
	`{"ts":"2024-01-01T00:00:00Z","duration":"1.5s","mask":"a.bC","struct":{"a":[1,null]}}`,
	`{"left":{"left":{"name":"x"}}}`, `{"optionalInt32":1,"repeatedNestedMessage":[{"a":1}]}`,
	`{"i32":1e }`, "{\"s\":\"\xff\"}", `{"s":"\ud800"}`, `[`, `{"a":`,
}

// FuzzJSONToWire checks AppendWire against protojson on arbitrary input:
// both reject it or both accept it with equal messages.
func FuzzJSONToWire(f *testing.F) {
	for i, s := range fuzzJSONSeeds {
		f.Add([]byte(s), uint8(i%len(fuzzMessages)), i%3 == 0)
	}
	for _, cases := range [][]jsonCase{scalarsCases, repeatedCases, mapsCases, oneofsCases, wellKnownCases, conformanceMessageCases, proto2Cases} {
		for i, c := range cases {
			f.Add([]byte(c.json), uint8(slices.Index(fuzzMessages, c.msg)), i%2 == 0)
		}
	}
	z := loadZoo(f)
	schemas := [2]*Schema{z.schema(f, Options{}), z.schema(f, Options{DiscardUnknown: true})}
	f.Fuzz(func(t *testing.T, js []byte, which uint8, discard bool) {
		s := schemas[0]
		if discard {
			s = schemas[1]
		}
		name := fuzzMessages[int(which)%len(fuzzMessages)]
		if m := checkJSON(t, z, s, name, js); m != nil {
			checkWire(t, z, s, m)
		}
	})
}

// FuzzWireToJSON checks AppendJSON on arbitrary wire bytes: when
// proto.Unmarshal accepts them, AppendJSON agrees with protojson.Marshal on
// failure, and its output parses back to the same message as protojson's.
func FuzzWireToJSON(f *testing.F) {
	z := loadZoo(f)
	for i, s := range fuzzJSONSeeds {
		name := fuzzMessages[i%len(fuzzMessages)]
		m, err := z.refUnmarshal(z.md(f, name), []byte(s), Options{})
		if err != nil {
			continue
		}
		b, _ := proto.Marshal(m)
		f.Add(b, uint8(i%len(fuzzMessages)), uint8(i))
	}
	f.Add([]byte{0x08, 0x01, 0x08, 0x02, 0x1a, 0x00, 0x10, 0x80, 0x01}, uint8(0), uint8(0))
	for i := range fuzzMessages { // a random message of each type
		g := &randGen{r: rand.New(rand.NewPCG(uint64(i), 5)), z: z}
		b, _ := proto.Marshal(g.message(z.md(f, fuzzMessages[i]), 2).Interface())
		f.Add(b, uint8(i), uint8(i))
	}
	var schemas []*Schema
	for _, o := range optionSets {
		schemas = append(schemas, z.schema(f, o))
	}
	f.Fuzz(func(t *testing.T, wire []byte, which, opts uint8) {
		s := schemas[int(opts)%len(schemas)]
		md := z.md(t, fuzzMessages[int(which)%len(fuzzMessages)])
		checkRawWire(t, z, s, md, wire)
	})
}

// checkRawWire compares AppendJSON on raw (possibly odd) wire bytes with
// proto.Unmarshal + protojson.Marshal.
func checkRawWire(t testing.TB, z *zoo, s *Schema, md protoreflect.MessageDescriptor, wire []byte) {
	t.Helper()
	js, gerr := s.Plan(md.FullName()).AppendJSON(nil, wire)
	m, err := z.parseWireSafe(md, wire, true)
	if err != nil {
		return // invalid wire: AppendJSON may fail or skip, but must not panic
	}
	dropClosedEnumUnknowns(m.ProtoReflect())
	ref, werr := protojson.MarshalOptions{Resolver: z.types, EmitUnpopulated: s.opts.EmitUnpopulated,
		UseProtoNames: s.opts.UseProtoNames, UseEnumNumbers: s.opts.UseEnumNumbers}.Marshal(m)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s %x:\n got err %v\nwant err %v", md.FullName(), wire, gerr, werr)
	}
	if werr != nil {
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, ref); err != nil || compact.String() != string(js) {
		i := 0
		for i < len(js) && i < compact.Len() && js[i] == compact.Bytes()[i] {
			i++
		}
		lo := max(i-80, 0)
		t.Fatalf("%s %x (opts %+v): output differs from protojson's at %d:\n got ...%s\nwant ...%s", md.FullName(), wire, s.opts, i,
			js[lo:min(i+80, len(js))], compact.Bytes()[lo:min(i+80, compact.Len())])
	}
	back, err := z.refUnmarshal(md, js, Options{})
	if err != nil {
		t.Fatalf("%s %x: output %s does not parse: %v", md.FullName(), wire, js, err)
	}
	want, _ := z.refUnmarshal(md, ref, Options{})
	if !z.equal(back, want) {
		t.Fatalf("%s %x: output %s parses to\n %v\nwant %v", md.FullName(), wire, js, back, want)
	}
}

// parseWireSafe is parseWire turning a panic into an error: protobuf-go's
// dynamic map decoding panics on a map entry whose key repeats with another
// wire type (seen by FuzzWireToJSON), input AppendJSON handles.
func (z *zoo) parseWireSafe(md protoreflect.MessageDescriptor, b []byte, partial bool) (m proto.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("proto.Unmarshal panics: %v", r)
		}
	}()
	m = dynamicpb.NewMessage(md)
	return m, proto.UnmarshalOptions{Resolver: z.types, AllowPartial: partial}.Unmarshal(b, m)
}

// dropClosedEnumUnknowns removes closed-enum numbers the enum lacks, which
// generated code (not dynamicpb) keeps as unknown fields: see
// TestClosedEnumWire.
func dropClosedEnumUnknowns(m protoreflect.Message) {
	known := func(ed protoreflect.EnumDescriptor, v protoreflect.Value) bool {
		return !ed.IsClosed() || ed.Values().ByNumber(v.Enum()) != nil
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if ed := fd.MapValue().Enum(); ed != nil {
				var drop []protoreflect.MapKey
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					if !known(ed, mv) {
						drop = append(drop, k)
					}
					return true
				})
				for _, k := range drop {
					v.Map().Clear(k)
				}
			} else if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					dropClosedEnumUnknowns(mv.Message())
					return true
				})
			}
			if v.Map().Len() == 0 {
				m.Clear(fd)
			}
		case fd.IsList():
			l := v.List()
			if ed := fd.Enum(); ed != nil {
				n := 0
				for i := 0; i < l.Len(); i++ {
					if known(ed, l.Get(i)) {
						l.Set(n, l.Get(i))
						n++
					}
				}
				l.Truncate(n)
			} else if fd.Message() != nil {
				for i := 0; i < l.Len(); i++ {
					dropClosedEnumUnknowns(l.Get(i).Message())
				}
			}
			if l.Len() == 0 {
				m.Clear(fd)
			}
		case fd.Enum() != nil:
			if !known(fd.Enum(), v) {
				m.Clear(fd)
			}
		case fd.Message() != nil:
			dropClosedEnumUnknowns(v.Message())
		}
		return true
	})
}
