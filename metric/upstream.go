package metric

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/straitgw/strait/upstream"
)

// Pool is a named upstream pool, as a scrape finds it.
type Pool struct {
	Name string
	Pool *upstream.Pool
}

// upstreams reports every endpoint of the pools in force at scrape time,
// labelled upstream and endpoint. Its counters are the pool's own: a
// pool a reload replaces (its settings changed) starts them again from
// zero, which Prometheus reads as a counter reset.
type upstreams struct{ pools func() []Pool }

var (
	labelsUpstream = []string{"upstream", "endpoint"}
	descConns      = prometheus.NewDesc("strait_upstream_connections", "Open HTTP/2 connections to an endpoint, draining ones included.", labelsUpstream, nil)
	descStreams    = prometheus.NewDesc("strait_upstream_streams", "Streams in flight on an endpoint's connections.", labelsUpstream, nil)
	descEjected    = prometheus.NewDesc("strait_upstream_ejected", "1 while the endpoint is ejected for consecutive failures.", labelsUpstream, nil)
	descHealthy    = prometheus.NewDesc("strait_upstream_healthy", "1 while the endpoint's last health probe passed (always 1 without probes).", labelsUpstream, nil)
	descEjections  = prometheus.NewDesc("strait_upstream_ejections_total", "Times the endpoint was ejected.", labelsUpstream, nil)
	descDialFails  = prometheus.NewDesc("strait_upstream_dial_failures_total", "Failed dials to the endpoint.", labelsUpstream, nil)
)

// RegisterUpstreams has reg report the pools pools returns at each scrape.
func RegisterUpstreams(reg prometheus.Registerer, pools func() []Pool) {
	reg.MustRegister(upstreams{pools})
}

func (u upstreams) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descStreams, descEjected, descHealthy, descEjections, descDialFails} {
		ch <- d
	}
}

func (u upstreams) Collect(ch chan<- prometheus.Metric) {
	seen := map[[2]string]bool{} // two names may resolve to one address
	for _, p := range u.pools() {
		for _, ep := range p.Pool.Stats().Endpoints {
			if k := [2]string{p.Name, ep.Addr}; seen[k] {
				continue
			} else {
				seen[k] = true
			}
			lv := []string{p.Name, ep.Addr}
			gauge := func(d *prometheus.Desc, v float64) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
			}
			gauge(descConns, float64(ep.Conns))
			gauge(descStreams, float64(ep.Active))
			gauge(descEjected, flag(ep.Ejected))
			gauge(descHealthy, flag(ep.Healthy))
			ch <- prometheus.MustNewConstMetric(descEjections, prometheus.CounterValue, float64(ep.Ejections), lv...)
			ch <- prometheus.MustNewConstMetric(descDialFails, prometheus.CounterValue, float64(ep.DialFailures), lv...)
		}
	}
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
