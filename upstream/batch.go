package upstream

import (
	"sync"

	"github.com/straitgw/strait/h2"
)

// Batch gathers the client-side (downstream) connections that responses
// were written to while one upstream connection handled an input batch.
// Each is corked on first use and uncorked once at the batch's end, so a
// response's HEADERS, DATA and trailers, and the responses of many streams,
// leave in one syscall per client connection.
type Batch struct{ conns []*h2.Conn }

// Cork adds c to the batch. A batch belongs to one goroutine: the worker
// serving its connection (so, from that connection's stream callbacks).
func (b *Batch) Cork(c *h2.Conn) {
	for _, x := range b.conns {
		if x == c {
			return
		}
	}
	c.Cork()
	b.conns = append(b.conns, c)
}

// End flushes every corked connection and empties the batch.
func (b *Batch) End() {
	for i, c := range b.conns {
		_ = c.Uncork()
		b.conns[i] = nil
	}
	b.conns = b.conns[:0]
}

// byConn finds an upstream connection's batch from its streams.
var byConn sync.Map // *h2.Conn -> *clientConn

// BatchOf returns the batch of the upstream connection s belongs to, or
// nil if s is not an upstream stream.
func BatchOf(s *h2.Stream) *Batch {
	if v, ok := byConn.Load(s.Conn()); ok {
		return &v.(*clientConn).batch
	}
	return nil
}
