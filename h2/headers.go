package h2

// headerBlock assembles one header block across HEADERS and CONTINUATION
// frames (RFC 9113 §4.3). It lives in the Serve goroutine's readState.
type headerBlock struct {
	active  bool // CONTINUATION expected
	id      uint32
	end     bool // END_STREAM on the HEADERS frame
	fields  []Field
	size    uint32 // RFC 9113 §6.5.2 accounting, kept past max
	max     uint32
	raw     int
	tooBig  bool
	bad     error // stream error to report once decoded
	dropped bool  // decode for HPACK state, then drop
}

// emit is the HPACK decoder's callback. Past the list size limit it stops
// keeping fields, and the decoder stops materialising strings, but the
// block is still decoded to keep the dynamic table in sync.
func (hb *headerBlock) emit(f Field) {
	hb.size += uint32(min(len(f.Name)+len(f.Value)+32, 1<<24))
	if hb.tooBig {
		return
	}
	if hb.size > hb.max {
		hb.tooBig, hb.fields = true, nil
		return
	}
	if hb.fields == nil {
		hb.fields = make([]Field, 0, 12) // one allocation for a typical request
	}
	hb.fields = append(hb.fields, f)
}

func (c *Conn) onHeaders(h FrameHeader, p []byte) error {
	if h.StreamID == 0 {
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	}
	frag, pr, ok := ConsumeHeadersPayload(h, p)
	if !ok {
		return connErr(ErrCodeProtocol, ErrBadPadding)
	}
	c.rd.hb = headerBlock{id: h.StreamID, end: h.Has(FlagEndStream), max: c.rd.hb.max}
	c.rd.hdec.SetEmitEnabled(true)
	if h.Has(FlagPriority) && pr.StreamDep == h.StreamID {
		c.rd.hb.bad = ErrBadFrame
	}
	if err := c.lockedClassify(h.StreamID); err != nil {
		return err
	}
	return c.fragment(frag, h.Has(FlagEndHeaders))
}

func (c *Conn) lockedClassify(id uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spoke = true // resets a grpc-go server's ping strikes (watch.go)
	return c.classify(id)
}

// classify rejects header blocks that open streams illegally (§5.1.1) and
// marks those for closed streams to be dropped after decoding.
func (c *Conn) classify(id uint32) error {
	switch {
	case c.streams[id] != nil:
		return nil
	case !c.server:
		if c.idle(id) {
			return connErr(ErrCodeProtocol, ErrBadStreamID)
		}
	case id&1 == 0:
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	case id > c.lastPeer:
		return nil
	case !c.resetByUs(id):
		return connErr(ErrCodeStreamClosed, ErrBadStreamID)
	}
	c.rd.hb.dropped = true
	return nil
}

func (c *Conn) onContinuation(h FrameHeader, p []byte) error {
	if !c.rd.hb.active || h.StreamID != c.rd.hb.id {
		return connErr(ErrCodeProtocol, ErrBadFrame)
	}
	// Each CONTINUATION costs a flat amount on top of its bytes: a flood
	// of tiny fragments (1-byte indexed fields) hits the budget too.
	c.rd.hb.raw += continuationCost
	return c.fragment(p, h.Has(FlagEndHeaders))
}

const continuationCost = 1 << 10

// bombFactor: a decoded header list this many times MaxHeaderListSize ends
// the connection instead of getting a 431.
const bombFactor = 4

// fragment feeds one header block fragment to the decoder, bounding the
// raw block size (CONTINUATION flood) and empty fragments.
func (c *Conn) fragment(frag []byte, endHeaders bool) error {
	hb := &c.rd.hb
	hb.raw += len(frag)
	if hb.raw > c.cfg.Limits.MaxHeaderBlock {
		return connErr(ErrCodeEnhanceYourCalm, ErrHeaderListTooLong)
	}
	if len(frag) == 0 && !endHeaders {
		if err := c.lockedCalm(&c.empties); err != nil {
			return err
		}
	}
	if _, err := c.rd.hdec.Write(frag); err != nil {
		return connErr(ErrCodeCompression, err)
	}
	if hb.tooBig {
		// Names and values are no longer materialised, but indexed
		// fields still count: a list this far over the limit is an
		// HPACK bomb, not a large request.
		c.rd.hdec.SetEmitEnabled(false)
		if hb.size/bombFactor > hb.max {
			return connErr(ErrCodeEnhanceYourCalm, ErrHeaderListTooLong)
		}
	}
	if !endHeaders {
		hb.active = true
		return nil
	}
	hb.active = false
	if err := c.rd.hdec.Close(); err != nil {
		return connErr(ErrCodeCompression, err)
	}
	return c.endHeaders()
}

// endHeaders acts on a complete header block.
func (c *Conn) endHeaders() error {
	hb := &c.rd.hb
	fields := hb.fields
	hb.fields = nil
	if hb.dropped {
		return nil
	}
	s, h, open, err := c.lockedHeaders(fields)
	switch {
	case err != nil || s == nil:
		return err
	case open:
		return c.accept(s, fields)
	}
	if h != nil {
		h.OnHeaders(s, fields, hb.end)
		if hb.end {
			c.deliveredEnd(s)
		}
	}
	return nil
}

// lockedHeaders finds the stream of a complete header block: a new peer
// stream to accept (open), an open stream with its handler when the block
// is to be delivered, or nil when it was answered or dropped here.
func (c *Conn) lockedHeaders(fields []Field) (s *Stream, h StreamHandler, open bool, err error) {
	hb := &c.rd.hb
	c.mu.Lock()
	defer c.mu.Unlock()
	s = c.streams[hb.id]
	if s == nil {
		if !c.server || hb.id <= c.lastPeer { // closed meanwhile
			return nil, nil, false, nil
		}
		if err = c.openPeer(fields); err != nil || hb.id == 0 {
			return nil, nil, false, err
		}
		return c.streams[hb.id], nil, true, nil
	}
	deliver, err := c.streamHeaders(s, fields)
	if err != nil || !deliver {
		return nil, nil, false, err
	}
	return s, s.h, false, nil
}

// openPeer validates a new peer stream under the lock. It clears hb.id when
// the stream is refused or answered here.
func (c *Conn) openPeer(fields []Field) error {
	hb := &c.rd.hb
	id := hb.id
	c.lastPeer = id
	if c.goAway {
		hb.id = 0 // beyond our GOAWAY: ignored (§6.8)
		return nil
	}
	cl, err := checkRequest(fields)
	switch {
	case hb.tooBig:
		c.writeHeaders(id, []Field{{Name: ":status", Value: "431"}}, true)
		if !hb.end {
			c.writeRST(id, ErrCodeNo)
		}
	case hb.bad != nil || err != nil || (hb.end && cl > 0):
		c.writeRST(id, ErrCodeProtocol)
	case c.nPeer >= int(c.cfg.MaxConcurrentStreams):
		c.writeRST(id, ErrCodeRefusedStream)
	default:
		s := &Stream{c: c, id: id, sendWin: int64(c.peer.initWin),
			recvWin: int64(c.cfg.InitialWindowSize), contentLen: cl,
			remoteEnd: hb.end, accepting: true}
		c.streams[id] = s
		c.nPeer++
		return nil
	}
	hb.id = 0
	return c.calm(&c.resets)
}

// accept runs the Acceptor for the new stream s.
func (c *Conn) accept(s *Stream, fields []Field) error {
	end := c.rd.hb.end
	h := c.acc.Accept(s, fields, end)
	if h == nil {
		h = discard{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s.h, s.accepting = h, false
	if s.closeDue {
		c.queueClose(s, h, s.closeErr)
	} else if end {
		s.remoteDone = true
		c.closeIfDone(s)
	}
	c.idleDone()
	return nil
}

// streamHeaders handles a header block on an open stream: a client's
// response headers, or trailers. It reports whether to deliver it.
func (c *Conn) streamHeaders(s *Stream, fields []Field) (bool, error) {
	hb := &c.rd.hb
	if s.remoteEnd {
		return false, c.peerReset(s, ErrCodeStreamClosed, ErrBadState)
	}
	if hb.bad != nil || hb.tooBig {
		return false, c.peerReset(s, ErrCodeProtocol, ErrHeaderListTooLong)
	}
	if c.server || s.gotHeaders {
		if !hb.end || checkTrailers(fields) != nil ||
			(s.contentLen >= 0 && s.received != s.contentLen) {
			return false, c.peerReset(s, ErrCodeProtocol, ErrBadHeader)
		}
		s.remoteEnd = true
		return true, nil
	}
	status, err := checkResponse(fields)
	if err != nil || (status < 200 && (hb.end || status == 101)) {
		return false, c.peerReset(s, ErrCodeProtocol, ErrBadHeader)
	}
	if status < 200 {
		return false, nil // informational: the final response follows
	}
	s.gotHeaders = true
	s.remoteEnd = hb.end
	return true, nil
}

// deliveredEnd records that the handler saw the peer's END_STREAM.
func (c *Conn) deliveredEnd(s *Stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.remoteDone = true
	c.closeIfDone(s)
	c.idleDone()
}

// writeHeaders HPACK-encodes fields and writes them as HEADERS plus
// CONTINUATION frames within the peer's frame size, under the lock.
func (c *Conn) writeHeaders(id uint32, fields []Field, end bool) error {
	if c.peer.maxHeaderList > 0 {
		size := 0
		for _, f := range fields {
			size += len(f.Name) + len(f.Value) + 32
		}
		if size > int(c.peer.maxHeaderList) { // the peer would refuse it (§6.5.2)
			return ErrHeaderListTooLong
		}
	}
	b, err := c.henc.encode(fields)
	if err != nil {
		c.broken(err)
		return err
	}
	max := int(c.peer.maxFrame)
	typ, flags := FrameHeaders, Flags(0)
	if end {
		flags = FlagEndStream
	}
	for {
		n := min(len(b), max)
		if n == len(b) {
			flags |= FlagEndHeaders
		}
		copy(c.frame(FrameHeader{Length: uint32(n), Type: typ, Flags: flags, StreamID: id}), b[:n])
		b = b[n:]
		if len(b) == 0 {
			return c.werr
		}
		typ, flags = FrameContinuation, 0
	}
}

// discard is the handler of streams whose Acceptor returned nil: the body
// is consumed so the connection window keeps moving.
type discard struct{}

func (discard) OnHeaders(*Stream, []Field, bool) {}
func (discard) OnData(s *Stream, p []byte, _ bool) {
	s.Consume(len(p))
}
func (discard) OnClose(*Stream, error) {}
