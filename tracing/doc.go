// Package tracing is strait's OpenTelemetry tracing: W3C trace context
// (traceparent parsed and written without allocating), the sampling
// decision, and the export of sampled requests' spans through the SDK's
// batch span processor to an OTLP/gRPC collector.
//
// The engine decides sampling from the client's traceparent before it
// touches the SDK: an unsampled request costs a header scan and a
// comparison. A sampled one gets a Request record the engine fills while
// it runs (timestamps, attempts); when it ends, the record goes to the
// Tracer's queue, and the Tracer's goroutine turns it into SDK spans with
// the recorded timestamps and ids, off the request path.
//
// It imports none of strait's packages but rpc.
package tracing
