package engine

import (
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/upstream"
)

// h2Conn serves one downstream HTTP/2 connection: REST, gRPC and gRPC-Web
// streams side by side.
type h2Conn struct {
	c  *conn
	h2 *h2.Conn
	// batch gathers the upstream connections written while Serve handles
	// one input batch: they are flushed once, when it ends or waits.
	batch upstream.Batch
}

func newH2Conn(c *conn) *h2Conn {
	h := &h2Conn{c: c}
	nc := c.nc
	s := c.e.snap.Load()
	cfg := serverH2Config(s.cfg)
	cfg.OnWait = h.batch.End
	h.h2 = h2.NewServerConn(nc.Writer(), func() { _ = nc.Close() }, h, cfg)
	if err := h.h2.Start(); err != nil {
		_ = nc.Close()
	}
	return h
}

func (h *h2Conn) serve() error {
	err := h.h2.Serve(h.c.r)
	h.batch.End()
	if err != nil {
		_ = h.c.nc.Close()
	}
	return nil
}

func (h *h2Conn) closed() { h.h2.Closed(errClientGone) }

// Accept picks a stream's handler by its content type.
func (h *h2Conn) Accept(s *h2.Stream, fields []h2.Field, end bool) h2.StreamHandler {
	h.c.e.metrics.requests.Add(1)
	snap := h.c.e.snap.Load()
	var ctype, path string
	for _, f := range fields {
		switch f.Name {
		case "content-type":
			ctype = f.Value
		case ":path":
			path = f.Value
		}
	}
	if isGRPC(ctype) {
		return startRelay(h.c.e, snap, &h.batch, s, fields, path, end)
	}
	return newH2Request(h.c.e, snap, &h.batch, s, fields, ctype, end)
}

func serverH2Config(cfg Config) h2.Config {
	return h2.Config{
		MaxConcurrentStreams: cfg.Limits.MaxConcurrentStreams,
		MaxHeaderListSize:    uint32(cfg.Limits.MaxHeaderBytes),
		IdleTimeout:          cfg.Timeouts.Idle,
		// A lagging client holds at most one upstream stream window plus
		// relayHighWater per stream before upstream credit stops.
		MaxStreamBuffer: upstreamStreamWindow + relayHighWater + 64<<10,
		MaxConnBuffer:   64 << 20,
	}
}

// upstreamStreamWindow is each upstream stream's receive window: enough
// for throughput on a data-center link, small enough to bound what a slow
// client makes the gateway hold.
const upstreamStreamWindow = 1 << 20

func upstreamH2Config() h2.Config {
	return h2.Config{
		InitialWindowSize: upstreamStreamWindow,
		ConnWindowSize:    16 << 20,
		MaxHeaderListSize: 1 << 20,
		KeepAlive:         30 * time.Second,
		PingTimeout:       10 * time.Second,
	}
}
