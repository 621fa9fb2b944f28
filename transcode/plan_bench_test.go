package transcode

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/straitgw/strait/transcode/internal/benchpb"
)

// benchOrder builds an order with n line items; n=4 gives about 1 KB of
// JSON.
func benchOrder(n int) *benchpb.Order {
	o := &benchpb.Order{
		Id: 9007199254740993, CustomerId: "cust-0042-7781", Status: benchpb.Status_STATUS_PAID,
		Shipping:    &benchpb.Address{Street: "221B Baker Street", City: "London", PostalCode: "NW1 6XE", Country: "GB"},
		Total:       &benchpb.Money{CurrencyCode: "EUR", Units: 1234, Nanos: 560000000},
		CreatedUnix: 1732406400, CouponIds: []int64{1, 22, 333, 4444},
		Note: "Please leave the parcel with the neighbour if nobody answers.", Gift: true, WeightKg: 2.75,
	}
	for i := 0; i < n; i++ {
		o.Items = append(o.Items, &benchpb.LineItem{
			Sku: fmt.Sprintf("SKU-%06d", i*7919), Title: "Hardcover book, first edition, signed",
			Quantity: int32(i + 1), UnitPrice: &benchpb.Money{CurrencyCode: "EUR", Units: int64(10 + i), Nanos: 990000000},
			Tags: []string{"books", "gift", "fragile"},
		})
	}
	return o
}

type benchCase struct {
	name string
	json []byte
	wire []byte
	plan *Plan
	md   protoreflect.MessageDescriptor
}

func benchCases(tb testing.TB) []benchCase {
	raw, err := os.ReadFile("internal/benchpb/bench.pb")
	if err != nil {
		tb.Fatal(err)
	}
	files, err := LoadDescriptorSets(raw)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewSchema(files, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	p := s.Plan("strait.bench.Order")
	var cs []benchCase
	for _, n := range []int{0, 4, 64} {
		o := benchOrder(n)
		js, _ := protojson.Marshal(o)
		js, _ = compactJSON(js)
		wire, _ := proto.Marshal(o)
		cs = append(cs, benchCase{fmt.Sprintf("%dB", len(js)), js, wire, p, p.Descriptor()})
	}
	return cs
}

// compactJSON drops protojson's random spaces so sizes are stable.
func compactJSON(js []byte) ([]byte, error) {
	var o benchpb.Order
	if err := protojson.Unmarshal(js, &o); err != nil {
		return nil, err
	}
	raw, _ := os.ReadFile("internal/benchpb/bench.pb")
	files, _ := LoadDescriptorSets(raw)
	s, _ := NewSchema(files, Options{})
	wire, _ := proto.Marshal(&o)
	return s.Plan("strait.bench.Order").AppendJSON(nil, wire)
}

var benchSink []byte

func BenchmarkJSONToWire(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name+"/strait", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.json)))
			buf := make([]byte, 0, 4*len(c.json))
			for b.Loop() {
				var err error
				if buf, err = c.plan.AppendWire(buf[:0], c.json); err != nil {
					b.Fatal(err)
				}
			}
			benchSink = buf
		})
		b.Run(c.name+"/protojson-generated", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.json)))
			for b.Loop() {
				var o benchpb.Order
				if err := protojson.Unmarshal(c.json, &o); err != nil {
					b.Fatal(err)
				}
				benchSink, _ = proto.Marshal(&o)
			}
		})
		b.Run(c.name+"/protojson-dynamicpb", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.json)))
			for b.Loop() {
				m := dynamicpb.NewMessage(c.md)
				if err := protojson.Unmarshal(c.json, m); err != nil {
					b.Fatal(err)
				}
				benchSink, _ = proto.Marshal(m)
			}
		})
	}
}

func BenchmarkWireToJSON(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name+"/strait", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.json)))
			buf := make([]byte, 0, 2*len(c.json))
			for b.Loop() {
				var err error
				if buf, err = c.plan.AppendJSON(buf[:0], c.wire); err != nil {
					b.Fatal(err)
				}
			}
			benchSink = buf
		})
		b.Run(c.name+"/protojson-generated", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.json)))
			for b.Loop() {
				var o benchpb.Order
				if err := proto.Unmarshal(c.wire, &o); err != nil {
					b.Fatal(err)
				}
				benchSink, _ = protojson.Marshal(&o)
			}
		})
		b.Run(c.name+"/protojson-dynamicpb", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.json)))
			for b.Loop() {
				m := dynamicpb.NewMessage(c.md)
				if err := proto.Unmarshal(c.wire, m); err != nil {
					b.Fatal(err)
				}
				benchSink, _ = protojson.Marshal(m)
			}
		})
	}
}

// TestCodecZeroAlloc pins the steady state of both directions at zero
// allocations per call.
func TestCodecZeroAlloc(t *testing.T) {
	if codecRace {
		t.Skip("sync.Pool is randomized under the race detector")
	}
	for _, c := range benchCases(t) {
		wbuf := make([]byte, 0, 4*len(c.json))
		jbuf := make([]byte, 0, 4*len(c.json))
		if n := testing.AllocsPerRun(100, func() { wbuf, _ = c.plan.AppendWire(wbuf[:0], c.json) }); n != 0 {
			t.Errorf("%s AppendWire: %v allocs per call; want 0", c.name, n)
		}
		if n := testing.AllocsPerRun(100, func() { jbuf, _ = c.plan.AppendJSON(jbuf[:0], c.wire) }); n != 0 {
			t.Errorf("%s AppendJSON: %v allocs per call; want 0", c.name, n)
		}
		if string(wbuf) != string(c.wire) {
			t.Errorf("%s: AppendWire gives %x; want %x", c.name, wbuf, c.wire)
		}
	}
}

// TestCodecConcurrent runs both directions from several goroutines on one
// Schema (run it with -race): results match the sequential ones.
func TestCodecConcurrent(t *testing.T) {
	cs := benchCases(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := 0; i < 200; i++ {
				c := cs[(g+i)%len(cs)]
				var err error
				if buf, err = c.plan.AppendWire(buf[:0], c.json); err != nil || string(buf) != string(c.wire) {
					errs <- fmt.Errorf("AppendWire %s: %v", c.name, err)
					return
				}
				if buf, err = c.plan.AppendJSON(buf[:0], c.wire); err != nil || string(buf) != string(c.json) {
					errs <- fmt.Errorf("AppendJSON %s: %v", c.name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
