package h2

// onData handles a DATA frame (RFC 9113 §6.1): flow control accounting
// under the lock, then OnData without it.
func (c *Conn) onData(h FrameHeader, p []byte) error {
	if h.StreamID == 0 {
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	}
	body, ok := ConsumePadding(h, p)
	if !ok {
		return connErr(ErrCodeProtocol, ErrBadPadding)
	}
	end := h.Has(FlagEndStream)
	s, hd, err := c.lockedDataStream(h, len(body), end)
	if s == nil || err != nil {
		return err
	}
	if len(body) > 0 || end {
		hd.OnData(s, body, end)
	}
	if end {
		c.deliveredEnd(s)
	}
	return nil
}

func (c *Conn) lockedDataStream(h FrameHeader, n int, end bool) (*Stream, StreamHandler, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spoke = true // resets a grpc-go server's ping strikes (watch.go)
	s, err := c.dataStream(h, n, end)
	if s == nil || err != nil {
		return nil, nil, err
	}
	return s, s.h, nil
}

// dataStream charges the receive windows and checks the stream's state;
// it returns the stream to deliver to, or nil when the frame is dropped.
func (c *Conn) dataStream(h FrameHeader, n int, end bool) (*Stream, error) {
	if n == 0 && !end {
		if err := c.calm(&c.empties); err != nil {
			return nil, err
		}
	}
	size := int64(h.Length)
	if size > c.recvWin {
		return nil, connErr(ErrCodeFlowControl, ErrFlowControl)
	}
	c.recvWin -= size
	// The connection window comes back as soon as a frame is received;
	// only the stream's waits for the handler (Consume). A stream whose
	// reader lags then stalls itself, never its neighbours: the bound on
	// what a connection holds is its streams' windows (as grpc-go does).
	c.consumeConn(size)
	s := c.streams[h.StreamID]
	if s == nil || s.accepting {
		return nil, c.dataNoStream(h.StreamID)
	}
	if s.remoteEnd || size > s.recvWin {
		code := ErrCodeStreamClosed
		if !s.remoteEnd {
			code = ErrCodeFlowControl
		}
		return nil, c.peerReset(s, code, ErrFlowControl)
	}
	if s.local && !s.gotHeaders { // DATA before the response headers
		return nil, c.peerReset(s, ErrCodeProtocol, ErrBadState)
	}
	s.recvWin -= size
	if pad := size - int64(n); pad > 0 {
		c.consumeStream(s, pad)
	}
	s.received += int64(n)
	s.held += int64(n)
	if s.contentLen >= 0 && (s.received > s.contentLen || end && s.received != s.contentLen) {
		return nil, c.peerReset(s, ErrCodeProtocol, ErrBadContentLength)
	}
	s.remoteEnd = end
	return s, nil
}

// dataNoStream handles DATA for a stream that is not open: idle is a
// connection error; for a closed one, unless we reset it ourselves, the
// peer hears STREAM_CLOSED.
func (c *Conn) dataNoStream(id uint32) error {
	if c.idle(id) {
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	}
	if !c.server {
		return nil // a stream of ours we closed or reset: its late DATA is expected
	}
	if c.resetByUs(id) {
		return nil
	}
	c.writeRST(id, ErrCodeStreamClosed)
	return c.calm(&c.resets)
}
