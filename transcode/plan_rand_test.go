package transcode

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// randGen builds random messages for property tests: every field kind,
// edge values, bounded depth, valid well-known types (mostly).
type randGen struct {
	r *rand.Rand
	z *zoo
}

func (g *randGen) message(md protoreflect.MessageDescriptor, depth int) protoreflect.Message {
	m := dynamicpb.NewMessage(md)
	if g.wkt(m, depth) {
		return m
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		skip := g.r.IntN(3) != 0
		if fd.Cardinality() == protoreflect.Required {
			skip = g.r.IntN(20) == 0
		}
		if skip || (fd.Message() != nil && depth <= 0) {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for n := g.r.IntN(4); n > 0; n-- {
				l.Append(g.value(fd, depth))
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for n := g.r.IntN(4); n > 0; n-- {
				mp.Set(g.value(fd.MapKey(), depth).MapKey(), g.value(fd.MapValue(), depth))
			}
		default:
			m.Set(fd, g.value(fd, depth))
		}
	}
	return m
}

var randStrings = []string{"", "a", "héllo", "\u2028\x00\"\\/", "😀", "NaN", "snake_case", strings.Repeat("long", 40), "\b\f\n\r\t\x1f\x7f"}

func (g *randGen) value(fd protoreflect.FieldDescriptor, depth int) protoreflect.Value {
	r := g.r
	edge := r.IntN(4) == 0
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0)
	case protoreflect.EnumKind:
		vs := fd.Enum().Values()
		if edge && !fd.Enum().IsClosed() { // see TestClosedEnumWire
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(r.Int32N(100) - 50))
		}
		return protoreflect.ValueOfEnum(vs.Get(r.IntN(vs.Len())).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if edge {
			return protoreflect.ValueOfInt32([]int32{math.MinInt32, math.MaxInt32, -1, 0}[r.IntN(4)])
		}
		return protoreflect.ValueOfInt32(int32(r.Uint32()) >> r.IntN(32))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if edge {
			return protoreflect.ValueOfInt64([]int64{math.MinInt64, math.MaxInt64, -1, 0}[r.IntN(4)])
		}
		return protoreflect.ValueOfInt64(int64(r.Uint64()) >> r.IntN(64))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(r.Uint32() >> r.IntN(32))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(r.Uint64() >> r.IntN(64))
	case protoreflect.FloatKind:
		if edge {
			return protoreflect.ValueOfFloat32(float32([]float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.MaxFloat32, math.SmallestNonzeroFloat32}[r.IntN(6)]))
		}
		return protoreflect.ValueOfFloat32(float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30))))
	case protoreflect.DoubleKind:
		if edge {
			return protoreflect.ValueOfFloat64([]float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, 1e21, 1e-7}[r.IntN(8)])
		}
		return protoreflect.ValueOfFloat64(r.NormFloat64() * math.Pow(10, float64(r.IntN(600)-300)))
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(randStrings[r.IntN(len(randStrings))])
	case protoreflect.BytesKind:
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return protoreflect.ValueOfBytes(b)
	}
	return protoreflect.ValueOfMessage(g.message(fd.Message(), depth-1))
}

// wkt fills well-known types with values that have a JSON form (and, one
// time in eight, with values that do not).
func (g *randGen) wkt(m protoreflect.Message, depth int) bool {
	md := m.Descriptor()
	fds := md.Fields()
	r := g.r
	bad := r.IntN(8) == 0
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		secs := r.Int64N(codecMaxTimestampSecs-codecMinTimestampSecs) + codecMinTimestampSecs
		if bad {
			secs = codecMaxTimestampSecs + 1
		}
		m.Set(fds.ByNumber(1), protoreflect.ValueOfInt64(secs))
		m.Set(fds.ByNumber(2), protoreflect.ValueOfInt32([]int32{0, 1, 1000, 1000000, 999999999, r.Int32N(1e9)}[r.IntN(6)]))
	case "google.protobuf.Duration":
		secs := r.Int64N(2*codecMaxDurationSecs) - codecMaxDurationSecs
		nanos := r.Int32N(1e9)
		if secs < 0 {
			nanos = -nanos
		}
		if bad {
			nanos = -nanos
		}
		m.Set(fds.ByNumber(1), protoreflect.ValueOfInt64(secs))
		m.Set(fds.ByNumber(2), protoreflect.ValueOfInt32(nanos))
	case "google.protobuf.FieldMask":
		l := m.Mutable(fds.ByNumber(1)).List()
		for _, p := range []string{"a", "foo_bar.baz", "x.y_z"}[:r.IntN(4)] {
			l.Append(protoreflect.ValueOfString(p))
		}
		if bad {
			l.Append(protoreflect.ValueOfString("a__b"))
		}
	case "google.protobuf.Value":
		g.knownValue(m, depth)
	case "google.protobuf.Any":
		if depth <= 0 {
			return true
		}
		inner := g.message(g.z.md(nil, "strait.codec.zoo.Scalars"), depth-1)
		if r.IntN(3) == 0 {
			inner = g.message(g.z.md(nil, "google.protobuf.Duration"), depth-1)
		}
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(inner.Interface())
		m.Set(fds.ByNumber(1), protoreflect.ValueOfString("type.googleapis.com/"+string(inner.Descriptor().FullName())))
		m.Set(fds.ByNumber(2), protoreflect.ValueOfBytes(b))
	default:
		return false
	}
	return true
}

func (g *randGen) knownValue(m protoreflect.Message, depth int) {
	fds := m.Descriptor().Fields()
	k := g.r.IntN(6)
	if depth <= 0 {
		k %= 4
	}
	fd := fds.ByNumber(protoreflect.FieldNumber(k + 1))
	switch k {
	case 0:
		m.Set(fd, protoreflect.ValueOfEnum(0))
	case 1:
		m.Set(fd, protoreflect.ValueOfFloat64(g.r.NormFloat64()*1e6))
	case 2:
		m.Set(fd, protoreflect.ValueOfString(randStrings[g.r.IntN(len(randStrings))]))
	case 3:
		m.Set(fd, protoreflect.ValueOfBool(true))
	default:
		m.Set(fd, protoreflect.ValueOfMessage(g.message(fd.Message(), depth-1)))
	}
}

func TestRandomMessagesDiff(t *testing.T) {
	z := loadZoo(t)
	names := []string{zZoo, zConf, zConf2, zConfReq, zConf23, zWKT, zMaps, zOneofs, zRepeated}
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	accepted := 0
	for _, o := range optionSets {
		s := z.schema(t, o)
		for seed := 0; seed < seeds; seed++ {
			g := &randGen{r: rand.New(rand.NewPCG(uint64(seed), 7)), z: z}
			for _, name := range names {
				m := g.message(z.md(t, name), 4).Interface()
				checkWire(t, z, s, m)
				js, err := protojson.MarshalOptions{Resolver: z.types, UseProtoNames: o.UseProtoNames,
					UseEnumNumbers: o.UseEnumNumbers, EmitUnpopulated: o.EmitUnpopulated}.Marshal(m)
				if err != nil {
					continue
				}
				if checkJSON(t, z, s, name, js) != nil {
					accepted++
				}
			}
		}
	}
	if accepted < seeds {
		t.Fatalf("only %d random messages made it both ways", accepted)
	}
	t.Logf("%d random messages checked both ways", accepted)
}
