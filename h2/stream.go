package h2

import "time"

// Stream is one HTTP/2 stream. Its methods may be called from any
// goroutine; UserData is free for the owner.
type Stream struct {
	UserData any

	c  *Conn
	id uint32
	h  StreamHandler

	// Guarded by c.mu.
	local      bool  // we opened it
	localEnd   bool  // END_STREAM written (or queued behind data: endQueued)
	endQueued  bool  // END_STREAM waits behind queued data or trailers
	remoteEnd  bool  // END_STREAM received
	remoteDone bool  // ... and delivered to the handler
	accepting  bool  // inside Acceptor.Accept: no handler yet
	closed     bool  // removed from the connection
	closeDue   bool  // closed while accepting: OnClose after Accept
	closeErr   error // for closeDue
	gotHeaders bool  // client: final response headers received
	sendWin    int64
	recvWin    int64
	unacked    int64 // consumed stream bytes not yet granted back
	held       int64 // delivered by OnData, not yet consumed
	out        []byte
	outOff     int
	trailers   []Field
	hasTrail   bool
	blocked    bool // in c.blocked
	progress   time.Time

	// Serve goroutine only.
	contentLen int64 // -1: none declared
	received   int64
}

// Conn returns the connection the stream belongs to.
func (s *Stream) Conn() *Conn { return s.c }

// ID returns the stream identifier.
func (s *Stream) ID() uint32 { return s.id }

// Buffered returns the bytes WriteData queued that are not yet written.
func (s *Stream) Buffered() int {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return len(s.out) - s.outOff
}

// Reset ends the stream with RST_STREAM code; OnClose gets a StreamError
// (queued: see events.go).
func (s *Stream) Reset(code ErrCode) {
	c := s.c
	c.mu.Lock()
	defer c.release()
	c.resetLocked(s, code, nil)
	c.flushSoon()
	c.idleDone()
}

// resetLocked writes RST_STREAM and closes s with a StreamError.
func (c *Conn) resetLocked(s *Stream, code ErrCode, cause error) {
	if s.closed {
		return
	}
	c.writeRST(s.id, code)
	c.finish(s, StreamError{StreamID: s.id, Code: code, Cause: cause})
}

// peerReset resets s for a peer error and charges the reset budget, so a
// flood of bad frames ends the connection like a flood of RST_STREAM.
func (c *Conn) peerReset(s *Stream, code ErrCode, cause error) error {
	c.resetLocked(s, code, cause)
	return c.calm(&c.resets)
}

func (c *Conn) writeRST(id uint32, code ErrCode) {
	if c.err != nil {
		return
	}
	var b [16]byte
	c.write(AppendRSTStream(b[:0], id, code))
	c.resetIDs[c.resetPos%len(c.resetIDs)] = id
	c.resetPos++
}

// resetByUs reports whether we recently reset id, so late frames for it are
// expected and silently dropped (RFC 9113 §5.1, closed state).
func (c *Conn) resetByUs(id uint32) bool {
	for _, v := range c.resetIDs {
		if v == id {
			return true
		}
	}
	return false
}

// closeIfDone closes s once both directions ended and the peer's end was
// delivered to the handler.
func (c *Conn) closeIfDone(s *Stream) {
	if s.localEnd && !s.endQueued && s.remoteDone {
		c.finish(s, nil)
	}
}

// finish removes s from the connection and queues its OnClose.
func (c *Conn) finish(s *Stream, err error) {
	if s.closed {
		return
	}
	s.closed = true
	c.lastAct = time.Now()
	delete(c.streams, s.id)
	if s.local {
		c.nLocal--
	} else {
		c.nPeer--
	}
	c.addQueued(-(len(s.out) - s.outOff))
	s.held = 0 // the connection window came back when they arrived
	s.out, s.outOff, s.trailers = nil, 0, nil
	if s.blocked {
		c.unblock(s)
	}
	if s.accepting {
		s.closeDue, s.closeErr = true, err
		return
	}
	c.queueClose(s, s.h, err)
}

func (c *Conn) unblock(s *Stream) {
	s.blocked = false
	for i, b := range c.blocked {
		if b == s {
			c.blocked = append(c.blocked[:i], c.blocked[i+1:]...)
			return
		}
	}
}

// WriteHeaders sends response headers, request headers already sent by
// OpenStream aside, or trailers when end is set. Trailers wait behind
// queued data.
func (s *Stream) WriteHeaders(fields []Field, end bool) error {
	c := s.c
	c.mu.Lock()
	defer c.release()
	err := c.writeHeadersStream(s, fields, end)
	c.idleDone()
	return err
}

func (c *Conn) writeHeadersStream(s *Stream, fields []Field, end bool) error {
	if err := c.writable(s); err != nil {
		return err
	}
	if len(s.out) > s.outOff {
		if !end {
			return ErrBadState
		}
		s.trailers, s.hasTrail = cloneFields(fields), true // kept past the call
		s.localEnd, s.endQueued = true, true
		return nil
	}
	if err := c.writeHeaders(s.id, fields, end); err != nil {
		return err
	}
	if end {
		s.localEnd = true
		c.closeIfDone(s)
	}
	return c.flushSoon()
}

func (c *Conn) writable(s *Stream) error {
	switch {
	case c.err != nil:
		return ErrConnClosed
	case s.closed || s.localEnd:
		return ErrStreamClosed
	}
	return nil
}

// WriteData sends p (copied) as DATA frames as far as the peer's windows
// allow and queues the rest, up to MaxStreamBuffer per stream and
// MaxConnBuffer per connection (ErrBufferFull, nothing written). It never
// blocks on the peer.
func (s *Stream) WriteData(p []byte, end bool) error {
	c := s.c
	c.mu.Lock()
	defer c.release()
	err := c.writeDataStream(s, p, end)
	c.idleDone()
	return err
}

func (c *Conn) writeDataStream(s *Stream, p []byte, end bool) error {
	if err := c.writable(s); err != nil {
		return err
	}
	if len(s.out) == s.outOff {
		n := c.sendable(s, len(p))
		if rest := len(p) - n; rest > 0 && !c.fits(s, rest) {
			return ErrBufferFull
		}
		c.writeData(s, p[:n], end && n == len(p))
		p = p[n:]
		if len(p) == 0 {
			if end {
				s.localEnd = true
				c.closeIfDone(s)
			}
			return c.flushSoon()
		}
	} else if !c.fits(s, len(p)) {
		return ErrBufferFull
	}
	c.enqueue(s, p, end)
	return c.flushSoon()
}

// fits reports whether n more queued bytes stay within the buffer bounds.
func (c *Conn) fits(s *Stream, n int) bool {
	return len(s.out)-s.outOff+n <= c.cfg.MaxStreamBuffer && c.queued+n <= c.cfg.MaxConnBuffer
}

func (c *Conn) enqueue(s *Stream, p []byte, end bool) {
	if s.outOff > 0 && s.outOff == len(s.out) {
		s.out, s.outOff = s.out[:0], 0
	}
	s.out = append(s.out, p...)
	c.addQueued(len(p))
	if end {
		s.localEnd, s.endQueued = true, true
	}
	if !s.blocked {
		s.blocked = true
		s.progress = time.Now()
		c.blocked = append(c.blocked, s)
	}
}

// Consume returns n bytes delivered by OnData to the flow control windows
// (bytes never consumed return to the connection window when the stream
// closes, and later calls are ignored);
// WINDOW_UPDATE goes out once half a window is owed, so a steady stream
// costs one frame per half window rather than one per DATA frame.
func (s *Stream) Consume(n int) {
	if n <= 0 {
		return
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := min(int64(n), s.held); m > 0 {
		s.held -= m
		c.consumeStream(s, m)
		c.flushSoon()
	}
}
