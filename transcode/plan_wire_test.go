package transcode

import (
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// splitFields cuts wire bytes into whole fields (tag and value).
func splitFields(t testing.TB, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, wt, b[n:])
		if n < 0 || m < 0 {
			t.Fatalf("bad wire %x", b)
		}
		out = append(out, b[:n+m])
		b = b[n+m:]
	}
	return out
}

// TestRawWireDiff feeds AppendJSON wire bytes that proto.Marshal never
// writes but parsers must take: two messages concatenated (merge: last
// scalar and oneof member win, messages merge, lists append, map keys
// override), fields in reverse order, unpacked runs for packed fields and
// unknown fields of every wire type.
func TestRawWireDiff(t *testing.T) {
	z := loadZoo(t)
	unknown := protowire.AppendVarint(protowire.AppendTag(nil, 9999, protowire.VarintType), 300)
	unknown = protowire.AppendBytes(protowire.AppendTag(unknown, 10000, protowire.BytesType), []byte("xyz"))
	unknown = protowire.AppendFixed32(protowire.AppendTag(unknown, 10001, protowire.Fixed32Type), 1)
	unknown = protowire.AppendFixed64(protowire.AppendTag(unknown, 10002, protowire.Fixed64Type), 1)
	unknown = protowire.AppendTag(protowire.AppendTag(unknown, 10003, protowire.StartGroupType), 10003, protowire.EndGroupType)
	for _, o := range optionSets[:3] {
		s := z.schema(t, o)
		seeds := 25
		if testing.Short() {
			seeds = 5
		}
		for seed := 0; seed < seeds; seed++ {
			g := &randGen{r: rand.New(rand.NewPCG(uint64(seed), 11)), z: z}
			for _, name := range []string{zZoo, zConf, zConf2, zConfReq, zConf23, zOneofs, zMaps, zRepeated, zWKT} {
				md := z.md(t, name)
				a, _ := proto.Marshal(g.message(md, 3).Interface())
				b, _ := proto.Marshal(g.message(md, 3).Interface())
				fields := splitFields(t, a)
				slices.Reverse(fields)
				rev := slices.Concat(fields...)
				unpacked := unpack(t, s.Plan(md.FullName()), b)
				for _, w := range [][]byte{slices.Concat(a, b), rev, slices.Concat(unknown, a, unknown), slices.Concat(b, unpacked, a)} {
					checkRawWire(t, z, s, md, w)
				}
			}
		}
	}
}

// unpack rewrites the packed runs of a message's top-level fields as one
// field per element, the other legal encoding.
func unpack(t testing.TB, p *Plan, b []byte) []byte {
	var out []byte
	for _, fld := range splitFields(t, b) {
		num, wt, n := protowire.ConsumeTag(fld)
		f := p.field(num)
		if f == nil || !f.packable || wt != protowire.BytesType {
			out = append(out, fld...)
			continue
		}
		run, _ := protowire.ConsumeBytes(fld[n:])
		for len(run) > 0 {
			k := elemLen(f.wt, run)
			out = append(protowire.AppendTag(out, num, f.wt), run[:k]...)
			run = run[k:]
		}
	}
	return out
}

// TestClosedEnumWire checks that numbers a closed (proto2) enum lacks are
// unknown fields, as generated code and the language guide have it
// (dynamicpb keeps them, so protojson over dynamicpb cannot be the
// reference here).
func TestClosedEnumWire(t *testing.T) {
	z := loadZoo(t)
	p := z.schema(t, Options{}).Plan(zConf2)
	fields := p.Descriptor().Fields()
	num := func(name string) protowire.Number { return fields.ByName(protoreflect.Name(name)).Number() }
	var w []byte
	w = protowire.AppendVarint(protowire.AppendTag(w, num("optional_nested_enum"), protowire.VarintType), 1)
	w = protowire.AppendVarint(protowire.AppendTag(w, num("optional_nested_enum"), protowire.VarintType), 77)
	w = protowire.AppendVarint(protowire.AppendTag(w, num("repeated_nested_enum"), protowire.VarintType), 77)
	w = protowire.AppendVarint(protowire.AppendTag(w, num("repeated_nested_enum"), protowire.VarintType), 2)
	w = protowire.AppendBytes(protowire.AppendTag(w, num("packed_nested_enum"), protowire.BytesType), []byte{77})
	w = protowire.AppendBytes(protowire.AppendTag(w, num("map_string_nested_enum"), protowire.BytesType), []byte{0x0a, 1, 'k', 0x10, 77})
	js, err := p.AppendJSON(nil, w)
	want := `{"optionalNestedEnum":"BAR","repeatedNestedEnum":["BAZ"]}`
	if err != nil || string(js) != want {
		t.Fatalf("got %s, %v; want %s", js, err, want)
	}
}
