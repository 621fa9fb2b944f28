// Package upstream owns the gateway's gRPC backends: endpoints, pools of
// multiplexed HTTP/2 client connections on netpoll, load balancing,
// outlier ejection, health checks, DNS and draining on GOAWAY. It may
// import h2 but never engine or transcode.
//
// Pool.Open never blocks and never dials on its caller's goroutine (a
// netpoll worker serving a client). An endpoint dials on a goroutine of
// its own, one dial at a time, counted toward MaxConnsPerEndpoint; a
// connection takes streams only once the server's first SETTINGS arrived
// (h2.Config.OnReady), so a backend that accepts TCP and never speaks
// costs a dial, never a request. A request that finds nothing ready but a
// dial under way gets ErrPending, and its Wake runs when a dial or a DNS
// lookup ends; it then calls Open again.
//
// Open ranks the endpoints (pick.go): healthy, then failing health
// probes, then ejected, then the request's Exclude; an endpoint backing
// off after a failed dial with no connection left is skipped. Within the
// best rank that can take the stream, round robin or least request
// (power of two choices) chooses. EjectAfter consecutive failures (failed
// dials, connections lost without GOAWAY or to a keepalive timeout,
// Report(false)) eject an endpoint for BaseEjection × its ejections in a
// row, never the last endpoint in the rotation.
//
// Goroutines: one per dial in flight (one per endpoint at most, for at
// most DialTimeout), one per resolved host name for the pool's life, and a
// short-lived one per closed connection. Timers: health probes, Warm's
// redial after a backoff.
//
// Lock order. Pool.mu and Endpoint.mu are never held together. Endpoint.mu
// may be held across h2.Conn calls that take the connection's lock
// (Available, Draining, Active, never a write). No lock of the pool is
// held when a Wake or an h2 callback runs, so a caller may hold its own
// lock (the engine's leg.mu, healthCall.mu) across Open.
package upstream
