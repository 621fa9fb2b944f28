package tracing

import (
	"encoding/binary"
	"math/rand/v2"
)

// Sampler decides which requests are traced: a client's sampled
// traceparent is honoured; the rest (unsampled, invalid or no
// traceparent) are traced at a ratio. The zero Sampler traces only what
// clients sampled.
type Sampler struct {
	bound uint64 // a trace is sampled when its low 63 random bits are below
}

// NewSampler samples ratio (0 to 1) of the requests a client did not sample.
func NewSampler(ratio float64) Sampler {
	switch {
	case ratio >= 1:
		return Sampler{bound: 1 << 63}
	case !(ratio > 0): // NaN too
		return Sampler{}
	}
	return Sampler{bound: uint64(ratio * (1 << 63))}
}

// Sample decides a request's fate from its client's traceparent (ok:
// one was given and valid) and returns the trace id to use when it is
// traced. The ratio looks at the low 8 bytes of the trace id, as
// OpenTelemetry's TraceIDRatioBased sampler does, so services that use
// the same ratio on the same trace agree; without a parent it draws those
// bytes first and makes the rest of a trace id only when the draw wins.
func (s Sampler) Sample(p Parent, ok bool) (TraceID, bool) {
	if ok {
		return p.Trace, p.Sampled() || s.bound > 0 && binary.BigEndian.Uint64(p.Trace[8:])>>1 < s.bound
	}
	if s.bound == 0 {
		return TraceID{}, false
	}
	low := rand.Uint64()
	if low>>1 >= s.bound {
		return TraceID{}, false
	}
	var t TraceID
	binary.BigEndian.PutUint64(t[:8], nonZero())
	binary.BigEndian.PutUint64(t[8:], low)
	return t, true
}

// NewSpanID returns a random span id, never all zeros.
func NewSpanID() SpanID {
	var s SpanID
	binary.BigEndian.PutUint64(s[:], nonZero())
	return s
}

func nonZero() uint64 {
	for {
		if v := rand.Uint64(); v != 0 {
			return v
		}
	}
}
