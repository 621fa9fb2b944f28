package tracing

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

const (
	validTP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tid     = "0af7651916cd43dd8448eb211c80319c"
	sid     = "b7ad6b7169203331"
)

func TestParseTraceparent(t *testing.T) {
	for _, c := range []struct {
		in    string
		ok    bool
		flags byte
	}{
		{validTP, true, 1},
		{"00-" + tid + "-" + sid + "-00", true, 0},
		{"00-" + tid + "-" + sid + "-03", true, 3},
		{"00-" + tid + "-" + sid + "-09", true, 1},      // unknown flags ignored
		{"01-" + tid + "-" + sid + "-01-what", true, 1}, // a later version may add fields
		{"01-" + tid + "-" + sid + "-01", true, 1},
		{"cc-" + tid + "-" + sid + "-01-", true, 1},
		{"00-" + tid + "-" + sid + "-01-", false, 0}, // version 00 is exactly 55
		{"01-" + tid + "-" + sid + "-01x", false, 0}, // a later version's fields follow a '-'
		{"ff-" + tid + "-" + sid + "-01", false, 0},
		{"00-" + strings.ToUpper(tid) + "-" + sid + "-01", false, 0},
		{"00-00000000000000000000000000000000-" + sid + "-01", false, 0},
		{"00-" + tid + "-0000000000000000-01", false, 0},
		{"00-" + tid + "-" + sid + "-0g", false, 0},
		{"0x-" + tid + "-" + sid + "-01", false, 0},
		{"00_" + tid + "-" + sid + "-01", false, 0},
		{validTP[:54], false, 0},
		{"", false, 0},
	} {
		p, ok := ParseTraceparent(c.in)
		if ok != c.ok || ok && (p.Trace.String() != tid || p.Span.String() != sid || p.Flags != c.flags) {
			t.Errorf("%q: got %v %s %s %02x; want %v, flags %02x", c.in, ok, p.Trace, p.Span, p.Flags, c.ok, c.flags)
		}
	}
}

func TestAppendTraceparent(t *testing.T) {
	p, _ := ParseTraceparent(validTP)
	if got := string(AppendTraceparent(nil, p.Trace, p.Span, p.Flags)); got != validTP {
		t.Fatalf("got %q; want %q", got, validTP)
	}
}

// raceEnabled is set by race_test.go.
var raceEnabled bool

// TestTraceparentZeroAlloc: parsing and writing a traceparent cost no
// allocation, so an unsampled request pays none for it.
func TestTraceparentZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	buf := make([]byte, 0, 64)
	var p Parent
	n := testing.AllocsPerRun(100, func() {
		p, _ = ParseTraceparent(validTP)
		buf = AppendTraceparent(buf[:0], p.Trace, p.Span, p.Flags)
	})
	if n != 0 {
		t.Fatalf("%v allocations per parse and write; want 0", n)
	}
}

// FuzzTraceparent: the parser agrees with OpenTelemetry's own
// (propagation.TraceContext) except where the W3C text says otherwise
// and OpenTelemetry does not follow it: a version 00 header with a '-'
// and nothing after it is too long (OpenTelemetry accepts it), and flags
// this version does not know are ignored (OpenTelemetry rejects a
// version 00 header that sets them). A valid header written back is the
// same header.
func FuzzTraceparent(f *testing.F) {
	for _, s := range []string{validTP, "00-" + tid + "-" + sid + "-00", "01-" + tid + "-" + sid + "-01-x",
		"ff-" + tid + "-" + sid + "-01", "00-" + tid + "-" + sid + "-01-", "00-" + tid + "-" + sid + "-ff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := ParseTraceparent(v)
		want, wok := otelParse(v)
		if deviates(v) { // compare with what W3C reads there
			flags, _ := hexByte(v[53], v[54])
			flags &= flagsKnown
			want, wok = otelParse(string(append([]byte(v[:53]), hexDigits[flags>>4], hexDigits[flags&0xf])))
			wok = wok && len(v) == traceparentLen
		}
		if ok != wok || ok && (got.Trace != TraceID(want.TraceID()) || got.Span != SpanID(want.SpanID()) ||
			got.Sampled() != want.IsSampled()) {
			t.Fatalf("%q: got %v %+v; OpenTelemetry %v %v", v, ok, got, wok, want)
		}
		if ok && v[:2] == "00" {
			if back := string(AppendTraceparent(nil, got.Trace, got.Span, got.Flags)); back[:53] != v[:53] {
				t.Fatalf("%q written back as %q", v, back)
			}
		}
	})
}

func otelParse(v string) (trace.SpanContext, bool) {
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": v})
	sc := trace.SpanContextFromContext(ctx)
	return sc, sc.IsValid()
}

// deviates reports the headers where W3C and OpenTelemetry part ways
// (see FuzzTraceparent). A W3C reader rejects such a header when it is
// too long, and otherwise reads it with the unknown flags cleared.
func deviates(v string) bool {
	if len(v) < traceparentLen || v[:2] != "00" {
		return false
	}
	flags, ok := hexByte(v[53], v[54])
	return len(v) == traceparentLen+1 && v[traceparentLen] == '-' || ok && flags > flagsKnown
}
