package transcode

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

var fieldTestMessages = []string{zZoo, zConf, zMaps, zRepeated, zOneofs}

// TestFieldCodecs checks AppendFieldJSON and AppendFieldWire field by field
// on random messages: the JSON of one field, put back in an object, parses
// (protojson) to the message with only that field; AppendFieldWire of that
// JSON gives the same message.
func TestFieldCodecs(t *testing.T) {
	z := loadZoo(t)
	s := z.schema(t, Options{})
	checked := 0
	for seed := 0; seed < 40; seed++ {
		g := &randGen{r: rand.New(rand.NewPCG(uint64(seed), 9)), z: z}
		for _, name := range fieldTestMessages {
			m := g.message(z.md(t, name), 3)
			mo := protojson.MarshalOptions{Resolver: z.types}
			if _, err := mo.Marshal(m.Interface()); err != nil {
				continue // no JSON form
			}
			wire, _ := proto.Marshal(m.Interface())
			p := s.Plan(protoreflect.FullName(name))
			fds := m.Descriptor().Fields()
			for i := 0; i < fds.Len(); i++ {
				checked += checkOneField(t, z, p, m, fds.Get(i), wire)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d fields checked", checked)
	}
}

func checkOneField(t *testing.T, z *zoo, p *Plan, m protoreflect.Message, fd protoreflect.FieldDescriptor, wire []byte) int {
	js, err := p.AppendFieldJSON(nil, fd, wire)
	if err != nil {
		t.Fatalf("%s: AppendFieldJSON: %v", fd.FullName(), err)
	}
	if !m.Has(fd) {
		return 0
	}
	only := dynamicpb.NewMessage(m.Descriptor())
	only.Set(fd, m.Get(fd))
	ref, _ := protojson.MarshalOptions{Resolver: z.types}.Marshal(only)
	want, _ := z.refUnmarshal(m.Descriptor(), ref, Options{}) // what JSON can carry
	obj := `{"` + fd.JSONName() + `":` + string(js) + `}`
	back, err := z.refUnmarshal(m.Descriptor(), []byte(obj), Options{})
	if err != nil || !z.equal(back, want) {
		t.Fatalf("%s: field JSON %s parses to %v (%v); want %v", fd.FullName(), js, back, err, want)
	}
	fw, err := p.AppendFieldWire(nil, fd, js)
	if err != nil {
		t.Fatalf("%s: AppendFieldWire(%s): %v", fd.FullName(), js, err)
	}
	got, err := z.parseWire(m.Descriptor(), fw)
	if err != nil || !z.equal(got, want) {
		t.Fatalf("%s: AppendFieldWire(%s) = %v (%v); want %v", fd.FullName(), js, got, err, want)
	}
	return 1
}

func TestFieldCodecsUnset(t *testing.T) {
	z := loadZoo(t)
	s := z.schema(t, Options{})
	p := s.Plan(zZoo)
	fields := p.Descriptor().Fields()
	for _, c := range []struct{ field, want string }{{"scalars", `{}`}, {"inners", `[]`}} {
		js, err := p.AppendFieldJSON(nil, fields.ByName(protoreflect.Name(c.field)), nil)
		if err != nil || string(js) != c.want {
			t.Errorf("%s unset: got %s, %v; want %s", c.field, js, err, c.want)
		}
	}
	sp := s.Plan(zScalars)
	i64 := sp.Descriptor().Fields().ByName("i64")
	if js, _ := sp.AppendFieldJSON(nil, i64, nil); string(js) != `"0"` {
		t.Errorf("unset int64: got %s; want \"0\"", js)
	}
	if w, err := sp.AppendFieldWire(nil, i64, []byte(`null`)); err != nil || len(w) != 0 {
		t.Errorf("null body: got %x, %v; want nothing", w, err)
	}
	if _, err := sp.AppendFieldWire(nil, i64, []byte(`"x"`)); err == nil {
		t.Error("bad body: no error")
	}
	if _, err := sp.AppendFieldWire(nil, fields.ByName("scalars"), []byte(`{}`)); err == nil {
		t.Error("field of another message: no error")
	}
	if _, err := sp.AppendFieldWire(nil, nil, []byte(`{}`)); err == nil {
		t.Error("nil field: no error")
	}
	if _, err := sp.AppendFieldJSON(nil, nil, nil); err == nil {
		t.Error("nil field: no error")
	}
}

// TestErrorText checks that input errors name the field and read well.
func TestErrorText(t *testing.T) {
	z := loadZoo(t)
	p := z.schema(t, Options{}).Plan(zScalars)
	for _, c := range []struct{ in, want string }{
		{`{"i32":"abc"}`, `invalid value for int32 field i32: "abc"`},
		{`{"nope":1}`, `unknown field "nope"`},
		{`{"i32":1,"i32":2}`, `duplicate field "i32"`},
		{`{"s":"` + "\xff" + `"}`, `invalid UTF-8`},
		{`{"color":"PURPLE"}`, `invalid value for enum field color: "PURPLE"`},
		{`{"i32":1`, `unexpected end of JSON`},
	} {
		_, err := p.AppendWire(nil, []byte(c.in))
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want an *Error containing %q", c.in, err, c.want)
		}
	}
}

// TestMaxDepth checks Options.MaxDepth on both sides.
func TestMaxDepth(t *testing.T) {
	z := loadZoo(t)
	s := z.schema(t, Options{MaxDepth: 5})
	p := s.Plan(zNode)
	nest := func(n int) string { return strings.Repeat(`{"left":`, n) + `{}` + strings.Repeat(`}`, n) }
	for n, ok := range map[int]bool{3: true, 4: true, 5: false, 50: false} {
		wire, err := p.AppendWire(nil, []byte(nest(n)))
		if (err == nil) != ok {
			t.Errorf("JSON depth %d: err %v; want ok=%v", n+1, err, ok)
		}
		m, _ := z.refUnmarshal(p.Descriptor(), []byte(nest(n)), Options{})
		wire, _ = proto.Marshal(m)
		if _, err := p.AppendJSON(nil, wire); (err == nil) != ok || (err != nil && !errors.Is(err, ErrDepth)) {
			t.Errorf("wire depth %d: err %v; want ok=%v", n+1, err, ok)
		}
	}
}
