package tlsconn

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// sock is the transport under a tls.Conn. Until the handshake is done it
// is the plain connection (the handshake runs on a goroutine of its own
// and may block). From then on its Write never blocks: ciphertext goes to
// the kernel if it takes it now, and what it does not take waits in pend
// for a goroutine that owns the blocking write until pend is empty (one
// per lagging connection, never per write). While corked, writes gather
// in pend and leave in one system call at uncork: a Flush's TLS records
// go out together.
type sock struct {
	net.Conn
	async atomic.Bool // the handshake is done: writes never block

	mu       sync.Mutex
	drained  sync.Cond // signalled whenever the queue shrinks or fails
	corked   bool
	bg       bool   // a goroutine owns the blocking write
	pend     []byte // ciphertext the kernel has not taken
	spare    []byte // the other half of pend's double buffer
	inflight int    // bytes the background write holds
	closing  bool   // Close was called: close once pend has left
	closed   bool   // the transport is closed
	err      error  // the first write error; every later write gets it
	wtimeout time.Duration

	rmu     sync.Mutex // orders read deadlines against stopReading
	rclosed bool
}

func newSock(c net.Conn) *sock {
	s := &sock{Conn: c}
	s.drained.L = &s.mu
	return s
}

// Write sends b without blocking once the handshake is done (see sock).
func (s *sock) Write(b []byte) (int, error) {
	if !s.async.Load() {
		return s.Conn.Write(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if s.corked || s.bg || len(s.pend) > 0 {
		s.pend = append(s.pend, b...)
		return len(b), nil
	}
	s.sendLocked(b)
	return len(b), s.err
}

// sendLocked offers b to the kernel and queues what it does not take.
func (s *sock) sendLocked(b []byte) {
	n, err := tryWrite(s.Conn, b)
	if err != nil {
		s.failLocked(err)
		return
	}
	if n < len(b) {
		s.pend = append(s.pend, b[n:]...)
		s.startLocked()
	}
}

func (s *sock) cork() {
	s.mu.Lock()
	s.corked = true
	s.mu.Unlock()
}

// uncork sends what gathered while corked.
func (s *sock) uncork() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corked = false
	if s.err == nil && !s.bg && len(s.pend) > 0 {
		p := s.pend
		s.pend = s.spare[:0]
		s.sendLocked(p)
		s.spare = p[:0]
		s.trimLocked()
	}
	return s.err
}

// trimLocked lets go of large buffers once they are empty: an idle
// connection keeps little.
func (s *sock) trimLocked() {
	if len(s.pend) == 0 && cap(s.pend) > maxKeptBuf {
		s.pend = nil
	}
	if cap(s.spare) > maxKeptBuf {
		s.spare = nil
	}
}

const maxKeptBuf = 16 << 10

func (s *sock) startLocked() {
	if !s.bg {
		s.bg = true
		go s.drain()
	}
}

// drain owns the blocking write until pend is empty, each write bounded
// by the write timeout.
func (s *sock) drain() {
	s.mu.Lock()
	for len(s.pend) > 0 && s.err == nil {
		p := s.pend
		s.pend, s.inflight = s.spare[:0], len(p)
		wt := s.wtimeout
		s.mu.Unlock()
		var err error
		if wt > 0 {
			err = s.Conn.SetWriteDeadline(time.Now().Add(wt))
		}
		if err == nil {
			_, err = s.Conn.Write(p)
		}
		s.mu.Lock()
		s.spare, s.inflight = p[:0], 0
		if err != nil {
			s.failLocked(err)
		}
		s.drained.Broadcast()
	}
	s.bg = false
	s.trimLocked()
	s.drained.Broadcast()
	closeNow := s.closing && !s.closed
	s.closed = s.closed || closeNow
	s.mu.Unlock()
	if closeNow {
		_ = s.Conn.Close()
	}
}

func (s *sock) failLocked(err error) {
	if s.err == nil {
		s.err = err
	}
	s.pend = nil
	s.drained.Broadcast()
}

// queued is what waits for the client: pend and the write in flight.
func (s *sock) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pend) + s.inflight
}

// waitBelow blocks while more than limit bytes wait for the client, or
// until the transport fails (the background write is bounded by the
// write timeout, so this is too).
func (s *sock) waitBelow(limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.err == nil && s.bg && len(s.pend)+s.inflight > limit {
		s.drained.Wait()
	}
	return s.err
}

// SetWriteDeadline is the handshake's; afterwards the background write
// sets its own, and tls.Conn's (Close sets one to stop a blocked write)
// would only cut short what is still queued.
func (s *sock) SetWriteDeadline(t time.Time) error {
	if s.async.Load() {
		return nil
	}
	return s.Conn.SetWriteDeadline(t)
}

func (s *sock) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

// SetReadDeadline does nothing once reading has stopped: the past
// deadline that stopped it stays.
func (s *sock) SetReadDeadline(t time.Time) error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.rclosed {
		return nil
	}
	return s.Conn.SetReadDeadline(t)
}

// stopReading makes a blocked Read return and every later one fail at
// once, while writes go on.
func (s *sock) stopReading() {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.rclosed = true
	_ = s.Conn.SetReadDeadline(time.Unix(1, 0))
}

// Close closes the transport once what is queued has left (bounded by
// the write timeout); tls.Conn's close_notify is queued like any write.
func (s *sock) Close() error {
	s.stopReading()
	s.mu.Lock()
	if s.closed || s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	if s.err == nil && len(s.pend) > 0 {
		s.corked = false
		s.startLocked()
	}
	if s.bg {
		s.mu.Unlock()
		return nil // drain closes
	}
	s.closed = true
	s.mu.Unlock()
	return s.Conn.Close()
}
