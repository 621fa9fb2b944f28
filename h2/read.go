package h2

import (
	"time"

	"golang.org/x/net/http2/hpack"
)

// readState belongs to the Serve goroutine.
type readState struct {
	preface  bool // preface read (server) or not expected (client)
	linger   bool // copy of Conn.linger
	settings bool // peer's first SETTINGS seen
	hdec     *hpack.Decoder
	hb       headerBlock
	ev       events
	unread   int // bytes read since the last Release
}

func (rd *readState) init(c *Conn) {
	rd.hdec = hpack.NewDecoder(c.cfg.HeaderTableSize, rd.hb.emit)
	rd.hdec.SetMaxStringLength(int(c.cfg.MaxHeaderListSize))
	rd.hb.max = c.cfg.MaxHeaderListSize
}

// releaseEvery bounds how much input one Serve call pins before Release,
// and how much it handles between two OnWait calls.
const releaseEvery = 64 << 10

// Serve consumes every byte in r: netpoll calls OnRequest again while any
// input is left. It blocks in r.Next only for the rest of a partial frame,
// bounded by the transport's read timeout. A non-nil error means the
// connection is finished and the caller closes the transport.
//
// After a protocol error Serve sends GOAWAY and returns nil, discarding
// input until the connection closes itself a moment later, so the GOAWAY
// is not lost to a TCP reset.
func (c *Conn) Serve(r Reader) error {
	if c.rd.linger {
		return c.discard(r)
	}
	if err := c.startServing(); err != nil { // finished by a timer or Closed meanwhile
		c.discard(r)
		return err
	}
	if !c.rd.preface {
		if err := c.readPreface(r); err != nil {
			return c.serveErr(r, err)
		}
	}
	for r.Len() > 0 {
		if err := c.readFrame(r); err != nil {
			return c.serveErr(r, err)
		}
		c.deliver()
		if c.rd.unread >= releaseEvery {
			// A long batch (a bulk upload, or an upstream connection
			// whose input never runs dry under load) also sends its
			// WINDOW_UPDATEs now rather than at the end, keeping the
			// peer's pipe full. It also ends the owner's batch: the
			// writes our handlers made to other connections (and the
			// OnClose/OnDrain queued there) wait corked for OnWait, and
			// Serve returns only when the input runs dry, which a peer
			// that keeps sending may never let happen; the clients of
			// a busy upstream connection then got nothing for seconds.
			r.Release()
			c.rd.unread = 0
			c.endBatch()
			c.lockedFlush()
		}
	}
	r.Release()
	c.rd.unread = 0
	err := c.setServing(false)
	c.deliver()
	return err
}

func (c *Conn) startServing() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.serving = c.err == nil
	return c.err
}

func (c *Conn) lockedFlush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
}

// setServing marks Serve running (writes defer their flush and their
// callbacks to it) or not; it returns the connection's error.
func (c *Conn) setServing(v bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.serving = v
	if !v {
		c.lastRead = time.Now()
		c.flush()
	}
	return c.err
}

// lockedCalm charges one token of b under the lock.
func (c *Conn) lockedCalm(b *budget) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calm(b)
}

// serveErr ends the connection; nil if it lingers.
func (c *Conn) serveErr(r Reader, err error) error {
	err = c.fail(err)
	c.setServing(false)
	c.deliver()
	c.rd.linger = c.lockedLinger()
	if c.rd.linger {
		return c.discard(r)
	}
	r.Release()
	return err
}

func (c *Conn) discard(r Reader) error {
	r.Skip(r.Len())
	r.Release()
	return nil
}

func (c *Conn) readPreface(r Reader) error {
	// Reject a wrong prefix (an HTTP/1.1 request line) without waiting for
	// all 24 octets, which such a client may never send.
	if p, _ := r.Peek(min(r.Len(), len(Preface))); string(p) != Preface[:len(p)] {
		return connErr(ErrCodeProtocol, ErrBadPreface)
	}
	if err := c.waitFrame(r, len(Preface)); err != nil {
		return err
	}
	p, err := r.Next(len(Preface))
	if err != nil {
		return err
	}
	if string(p) != Preface {
		return connErr(ErrCodeProtocol, ErrBadPreface)
	}
	c.rd.preface = true
	return nil
}

// endBatch runs OnWait: the owner flushes the writes to other
// connections its handlers made since the batch began.
func (c *Conn) endBatch() {
	if c.cfg.OnWait != nil {
		c.cfg.OnWait()
	}
}

// waitFrame makes sure the next n bytes are buffered. Before r.Peek
// blocks for them, pending output is flushed and writers flush their own
// again: the wait may last up to the read timeout.
func (c *Conn) waitFrame(r Reader, n int) error {
	if r.Len() >= n {
		return nil
	}
	c.endBatch()
	c.setServing(false)
	c.deliver()
	_, err := r.Peek(n)
	c.setServing(true)
	return err
}

// ReadFrame reads one frame from r, blocking for the rest of it. It
// rejects a length above max before reading the payload. The payload is
// valid until r.Release.
func ReadFrame(r Reader, max uint32) (FrameHeader, []byte, error) {
	b, err := r.Next(FrameHeaderLen)
	if err != nil {
		return FrameHeader{}, nil, err
	}
	h, _ := ConsumeFrameHeader(b)
	if h.Length > max {
		return h, nil, connErr(ErrCodeFrameSize, ErrFrameTooLarge)
	}
	if h.Length == 0 {
		return h, nil, nil
	}
	p, err := r.Next(int(h.Length))
	return h, p, err
}

func (c *Conn) readFrame(r Reader) error {
	if err := c.waitFrame(r, FrameHeaderLen); err != nil {
		return err
	}
	b, _ := r.Peek(3)
	if n := int(b[0])<<16 | int(b[1])<<8 | int(b[2]); n <= int(c.cfg.MaxFrameSize) {
		if err := c.waitFrame(r, FrameHeaderLen+n); err != nil {
			return err
		}
	}
	h, p, err := ReadFrame(r, c.cfg.MaxFrameSize)
	if err != nil {
		return err
	}
	c.rd.unread += FrameHeaderLen + len(p)
	return c.dispatch(h, p)
}

// dispatch handles one frame (RFC 9113 §6).
func (c *Conn) dispatch(h FrameHeader, p []byte) error {
	if !c.rd.settings {
		if h.Type != FrameSettings || h.Has(FlagAck) {
			return connErr(ErrCodeProtocol, ErrBadFrame)
		}
		c.rd.settings = true
		err := c.lockedControl(h, p)
		if err == nil && c.cfg.OnReady != nil {
			c.cfg.OnReady()
		}
		return err
	}
	if c.rd.hb.active && h.Type != FrameContinuation {
		return connErr(ErrCodeProtocol, ErrBadFrame)
	}
	switch h.Type {
	case FrameData:
		return c.onData(h, p)
	case FrameHeaders:
		return c.onHeaders(h, p)
	case FrameContinuation:
		return c.onContinuation(h, p)
	case FramePushPromise:
		return connErr(ErrCodeProtocol, ErrBadFrame)
	}
	return c.lockedControl(h, p)
}

func (c *Conn) lockedControl(h FrameHeader, p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.control(h, p)
	c.idleDone()
	return err
}

// control handles frames other than DATA and header blocks, under the lock.
func (c *Conn) control(h FrameHeader, p []byte) error {
	switch h.Type {
	case FrameRSTStream:
		return c.onRST(h, p)
	case FrameSettings:
		return c.onSettings(h, p)
	case FramePing:
		return c.onPing(h, p)
	case FrameGoAway:
		return c.onGoAway(h, p)
	case FrameWindowUpdate:
		return c.onWindowUpdate(h, p)
	case FramePriority:
		return c.onPriority(h, p)
	}
	return c.calm(&c.ctrl) // unknown frame types are ignored (§5.5)
}

// calm charges one token; an empty budget ends the connection.
func (c *Conn) calm(b *budget) error {
	if !b.take(time.Now()) {
		return connErr(ErrCodeEnhanceYourCalm, ErrAbuse)
	}
	return nil
}

// idle reports whether id names a stream in the idle state (§5.1).
func (c *Conn) idle(id uint32) bool {
	if (id&1 == 1) == c.server {
		return id > c.lastPeer
	}
	return c.server || id >= c.nextID
}

func (c *Conn) onRST(h FrameHeader, p []byte) error {
	code, ok := ConsumeUint32(p)
	switch {
	case h.StreamID == 0:
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	case !ok:
		return connErr(ErrCodeFrameSize, ErrBadFrame)
	case c.idle(h.StreamID):
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	}
	// Rapid Reset is a client's attack on a server: a server resetting
	// our streams (after we cancelled many, say) is not charged.
	if c.server {
		if err := c.calm(&c.resets); err != nil {
			return err
		}
	}
	if s := c.streams[h.StreamID]; s != nil {
		c.finish(s, StreamError{StreamID: s.id, Code: ErrCode(code)})
	}
	return nil
}

func (c *Conn) onPing(h FrameHeader, p []byte) error {
	switch {
	case h.StreamID != 0:
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	case len(p) != 8:
		return connErr(ErrCodeFrameSize, ErrBadFrame)
	case h.Has(FlagAck):
		if [8]byte(p) == shutdownPing {
			c.finalGoAway()
		} else {
			c.pingSent = time.Time{}
		}
		return nil
	}
	// A peer that measures the path (grpc-go's BDP estimator) pings
	// after each burst of data it receives, often; only a PING that no
	// data of ours preceded is charged as a control frame.
	if !c.sentData {
		if err := c.calm(&c.ctrl); err != nil {
			return err
		}
	}
	c.sentData = false
	if buf := c.frame(FrameHeader{Length: 8, Type: FramePing, Flags: FlagAck}); buf != nil {
		copy(buf, p)
	}
	return nil
}

func (c *Conn) onPriority(h FrameHeader, p []byte) error {
	if h.StreamID == 0 {
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	}
	if err := c.calm(&c.ctrl); err != nil {
		return err
	}
	pr, ok := ConsumePriorityPayload(p)
	code := ErrCodeFrameSize
	if ok {
		if pr.StreamDep != h.StreamID {
			return nil
		}
		code = ErrCodeProtocol
	}
	if s := c.streams[h.StreamID]; s != nil {
		c.resetLocked(s, code, ErrBadFrame)
	} else {
		c.writeRST(h.StreamID, code)
	}
	return nil
}

func (c *Conn) onGoAway(h FrameHeader, p []byte) error {
	if h.StreamID != 0 {
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	}
	last, code, debug, ok := ConsumeGoAway(p)
	if !ok {
		return connErr(ErrCodeFrameSize, ErrBadFrame)
	}
	c.drained = true
	c.goneAway = GoAwayError{LastStreamID: last, Code: code, Debug: string(debug)}
	for id, s := range c.streams {
		if s.local && id > last {
			c.finish(s, c.goneAway)
		}
	}
	return nil
}
