package engine

import (
	"math"
	"strconv"
)

// TracingConfig turns on OpenTelemetry tracing (trace.go): a server span
// per request and a client span per upstream attempt, exported over
// OTLP/gRPC. The zero value is off.
type TracingConfig struct {
	// OTLPEndpoint is the collector, host:port, spoken to in plaintext
	// (OTLP/gRPC, usually a collector or agent beside the gateway).
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// SampleRatio (0 to 1) is the share of requests traced among those
	// whose client did not sample them; a client's sampled traceparent is
	// always followed (default 0: only those).
	SampleRatio float64 `yaml:"sample_ratio"`
}

// Enabled reports whether spans are made.
func (t TracingConfig) Enabled() bool { return t.OTLPEndpoint != "" }

func (k *checker) tracing() {
	t := k.c.Tracing
	if t.OTLPEndpoint != "" {
		k.address("tracing.otlp_endpoint", t.OTLPEndpoint)
	}
	r := strconv.FormatFloat(t.SampleRatio, 'g', -1, 64)
	switch {
	case math.IsNaN(t.SampleRatio) || t.SampleRatio < 0 || t.SampleRatio > 1:
		k.add("tracing.sample_ratio", r, "%s is not between 0 and 1", r)
	case t.SampleRatio > 0 && t.OTLPEndpoint == "":
		k.add("tracing.sample_ratio", r, "needs otlp_endpoint (the collector's host:port)")
	}
}
