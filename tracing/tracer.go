package tracing

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Config is a Tracer's settings.
type Config struct {
	// Endpoint is the OTLP/gRPC collector, host:port, spoken to in
	// plaintext (a collector or agent beside the gateway).
	Endpoint string
	// Log hears of export failures, at most once a minute.
	Log *slog.Logger
	// Counters count spans exported, failed and dropped; a gateway keeps
	// one set across the tracers its reloads make.
	Counters *Counters

	queue     int // requests waiting for the tracer's goroutine (default 1024)
	spanQueue int // spans in the batch processor (default 2048)
	batch     time.Duration
	exporter  sdktrace.SpanExporter // instead of OTLP (tests)
}

// Counters count spans by fate.
type Counters struct {
	Exported atomic.Int64 // accepted by the collector
	Failed   atomic.Int64 // the export failed (collector down, refused)
	Dropped  atomic.Int64 // never exported: the queues were full
}

// Tracer exports sampled requests' spans. Finish hands it a Request
// without waiting: the request joins a bounded queue, or is dropped and
// counted when the queue is full. One goroutine per Tracer turns
// requests into SDK spans and feeds the batch span processor, which
// exports batches on a goroutine of its own. A collector that is down or
// slow fills the queues, never blocks a request.
type Tracer struct {
	cfg      Config
	c        *Counters
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	queue    chan *Request
	inflight atomic.Int64 // spans ended and not yet through the exporter
	closed   atomic.Bool
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	lastLog  atomic.Int64 // unix ns of the last export failure logged
}

// Defaults of the queues and the batch processor.
const (
	defaultQueue     = 1024
	defaultSpanQueue = 2048
	defaultBatch     = time.Second
	exportTimeout    = 10 * time.Second
	maxBatch         = 512
)

// New starts a Tracer. It does not connect: the exporter dials the
// collector on the first export, in the background.
func New(cfg Config) (*Tracer, error) {
	setDefault(&cfg.queue, defaultQueue)
	setDefault(&cfg.spanQueue, defaultSpanQueue)
	setDefault(&cfg.batch, defaultBatch)
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Counters == nil {
		cfg.Counters = new(Counters)
	}
	exp := cfg.exporter
	if exp == nil {
		var err error
		if exp, err = otlpExporter(cfg.Endpoint); err != nil {
			return nil, err
		}
	}
	t := &Tracer{cfg: cfg, c: cfg.Counters, queue: make(chan *Request, cfg.queue),
		stop: make(chan struct{}), done: make(chan struct{})}
	bsp := sdktrace.NewBatchSpanProcessor(counted{exp, t},
		sdktrace.WithMaxQueueSize(cfg.spanQueue), sdktrace.WithMaxExportBatchSize(min(maxBatch, cfg.spanQueue)),
		sdktrace.WithBatchTimeout(cfg.batch), sdktrace.WithExportTimeout(exportTimeout))
	t.provider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(bsp),
		sdktrace.WithSampler(sdktrace.AlwaysSample()), // the engine has decided
		sdktrace.WithIDGenerator(presetIDs{}), sdktrace.WithResource(serviceResource()))
	t.tracer = t.provider.Tracer("github.com/straitgw/strait")
	go t.run()
	return t, nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// otlpExporter speaks OTLP/gRPC in plaintext to endpoint. Its retries and
// reconnects are bounded so that a collector back from an outage gets
// spans again within seconds.
func otlpExporter(endpoint string) (sdktrace.SpanExporter, error) {
	return otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithTimeout(5*time.Second),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true,
			InitialInterval: 500 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 5 * time.Second}),
		otlptracegrpc.WithDialOption(grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: time.Second, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 10 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		})))
}

// serviceResource names the service strait; OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES, when set, win.
func serviceResource() *resource.Resource {
	r, _ := resource.New(context.Background(), resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", "strait")), resource.WithFromEnv())
	return r
}

// export queues r for the tracer's goroutine, or drops it.
func (t *Tracer) export(r *Request) {
	if !t.closed.Load() {
		select {
		case t.queue <- r:
			return
		default:
		}
	}
	t.c.Dropped.Add(int64(1 + len(r.Attempts)))
}

// run turns queued requests into spans until Shutdown, then takes what
// is left in the queue.
func (t *Tracer) run() {
	defer close(t.done)
	for {
		select {
		case r := <-t.queue:
			t.take(r)
		case <-t.stop:
			for {
				select {
				case r := <-t.queue:
					t.take(r)
				default:
					return
				}
			}
		}
	}
}

// take makes r's spans, unless the batch processor's queue could not hold
// them: it would drop them without telling, so they are dropped and
// counted here instead.
func (t *Tracer) take(r *Request) {
	if r.flushed != nil {
		close(r.flushed)
		return
	}
	n := int64(1 + len(r.Attempts))
	if t.inflight.Load()+n > int64(t.cfg.spanQueue) {
		t.c.Dropped.Add(n)
		return
	}
	t.inflight.Add(n)
	t.spans(r)
}

// Flush exports every span of the requests finished so far.
func (t *Tracer) Flush(ctx context.Context) error {
	m := &Request{flushed: make(chan struct{})}
	select {
	case t.queue <- m:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-m.flushed:
	case <-ctx.Done():
		return ctx.Err()
	}
	return t.provider.ForceFlush(ctx)
}

// Shutdown exports what is queued, within ctx, and stops the Tracer;
// requests finished after it are dropped.
func (t *Tracer) Shutdown(ctx context.Context) error {
	t.once.Do(func() {
		t.closed.Store(true)
		close(t.stop)
	})
	select {
	case <-t.done:
	case <-ctx.Done():
	}
	return t.provider.Shutdown(ctx)
}

// counted is the exporter as the batch processor sees it: it counts what
// it exports and logs failures itself (the SDK's global handler would
// log every failed batch).
type counted struct {
	sdktrace.SpanExporter
	t *Tracer
}

func (c counted) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	n := int64(len(spans))
	err := c.SpanExporter.ExportSpans(ctx, spans)
	c.t.inflight.Add(-n)
	if err != nil {
		c.t.c.Failed.Add(n)
		c.t.exportFailed(err)
		return nil
	}
	c.t.c.Exported.Add(n)
	return nil
}

// exportFailed logs a failed export, at most once a minute.
func (t *Tracer) exportFailed(err error) {
	now, last := time.Now().UnixNano(), t.lastLog.Load()
	if last != 0 && now-last < int64(time.Minute) || !t.lastLog.CompareAndSwap(last, now) {
		return
	}
	t.cfg.Log.Warn("tracing: spans not exported", "collector", t.cfg.Endpoint, "err", err,
		"failed_total", t.c.Failed.Load())
}
