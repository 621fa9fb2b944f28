package h2

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Reader is the zero-copy input of a connection; netpoll.Reader satisfies
// it. Slices it returns stay valid until Release.
type Reader interface {
	Len() int
	Peek(n int) ([]byte, error)
	Next(n int) ([]byte, error)
	Skip(n int) error
	Release() error
}

// Writer is the output of a connection; netpoll.Writer satisfies it. It is
// not safe for concurrent use: the Conn's mutex guards it.
type Writer interface {
	Malloc(n int) ([]byte, error)
	WriteBinary(b []byte) (int, error)
	Flush() error
}

// Field is one header field.
type Field = hpack.HeaderField

// Acceptor receives a server connection's new request streams. Accept runs
// on the Serve goroutine; fields may be kept. A nil handler discards the
// stream's further events (its body is consumed for it).
type Acceptor interface {
	Accept(s *Stream, fields []Field, end bool) StreamHandler
}

// StreamHandler receives one stream's events, never with the conn lock held.
type StreamHandler interface {
	// OnHeaders delivers response headers (client) or trailers (end=true).
	OnHeaders(s *Stream, fields []Field, end bool)
	// OnData delivers body bytes, valid only during the call; the handler
	// returns them to the flow control window with s.Consume when done.
	OnData(s *Stream, p []byte, end bool)
	// OnClose runs exactly once, after the last OnHeaders/OnData: nil when
	// both sides ended cleanly, else the reason (StreamError on reset).
	// When a Stream write or Reset ends the stream, OnClose is queued and
	// runs after that call has returned (events.go), never inside it.
	OnClose(s *Stream, err error)
}

// Drainer is optionally implemented by a StreamHandler: n bytes queued by
// WriteData reached the transport (backpressure release).
type Drainer interface {
	OnDrain(s *Stream, n int)
}

// Conn is one HTTP/2 connection, server or client side. Serve runs on one
// goroutine at a time; everything else may be called from any goroutine.
type Conn struct {
	mu      sync.Mutex
	w       Writer
	closeFn func()
	acc     Acceptor
	cfg     Config
	server  bool

	rd readState // Serve goroutine only

	// Guarded by mu.
	henc      *encoder
	streams   map[uint32]*Stream
	peer      peerSettings
	sendWin   int64  // connection send window
	recvWin   int64  // connection receive window left to the peer
	unacked   int64  // consumed connection bytes not yet granted back
	nextID    uint32 // client: next stream id to open
	lastPeer  uint32 // highest stream id the peer opened
	nLocal    int    // open streams we initiated
	nPeer     int    // open streams the peer initiated
	blocked   []*Stream
	queued    int // bytes queued over all streams
	resetIDs  [256]uint32
	sentData  bool // DATA or WINDOW_UPDATE written since the peer's last PING
	resetPos  int
	dirty     bool
	serving   bool // Serve is running and will flush before it returns or waits
	corked    int  // Cork depth: flushes wait for Uncork
	werr      error
	err       error // set once the connection is finished
	goAway    bool  // we sent GOAWAY: no new streams
	draining  bool  // Shutdown's first GOAWAY sent, final one pending
	drained   bool  // peer sent GOAWAY: open no new streams
	closing   bool  // closeFn called or due
	setSentAt time.Time
	setAcked  bool
	pingSent  time.Time // our PING awaiting its ACK; zero if none
	pingLast  time.Time // our last PING, answered or not
	spoke     bool      // the peer sent HEADERS or DATA since pingLast
	early     int       // PINGs sent early (see ping) since the peer last spoke
	lastRead  time.Time
	lastAct   time.Time // last stream opened or closed
	linger    bool      // GOAWAY sent after an error; input is discarded
	timer     *time.Timer
	ctrl      budget
	resets    budget
	empties   budget
	goneAway  GoAwayError // the peer's last GOAWAY, if drained

	// Queued callbacks (events.go): pending waits for a deliverer; spare
	// is the deliverer's second buffer.
	pending    events
	spare      events
	delivering bool
	hasEvents  atomic.Bool // pending is not empty; read without the lock
}

type peerSettings struct {
	maxFrame      uint32
	initWin       uint32
	maxStreams    uint32
	maxHeaderList uint32
	tableSize     uint32
}

// NewServerConn returns the server side of a connection whose preface is
// still unread; close closes the transport.
func NewServerConn(w Writer, close func(), a Acceptor, cfg Config) *Conn {
	c := newConn(w, close, cfg)
	c.server, c.acc = true, a
	return c
}

// NewClientConn returns the client side of a connection; Start sends the
// preface.
func NewClientConn(w Writer, close func(), cfg Config) *Conn {
	c := newConn(w, close, cfg)
	c.nextID = 1
	c.rd.preface = true
	return c
}

func newConn(w Writer, close func(), cfg Config) *Conn {
	cfg.defaults()
	c := &Conn{w: w, closeFn: close, cfg: cfg, streams: make(map[uint32]*Stream)}
	c.henc = newEncoder()
	c.peer = peerSettings{maxFrame: minMaxFrameSize, initWin: defaultWindow,
		maxStreams: ^uint32(0), tableSize: defaultHeaderTable}
	c.sendWin, c.recvWin = defaultWindow, int64(cfg.ConnWindowSize)
	c.rd.init(c)
	l := cfg.Limits
	c.ctrl = newBudget(l.ControlBurst, l.ControlRate)
	c.resets = newBudget(l.ResetBurst, l.ResetRate)
	c.empties = newBudget(l.EmptyBurst, l.EmptyRate)
	c.lastRead = time.Now()
	c.lastAct = c.lastRead
	return c
}

// Start writes the client preface (client) and our SETTINGS and connection
// WINDOW_UPDATE (both sides), and arms the connection's timer.
func (c *Conn) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.server {
		c.write([]byte(Preface))
	}
	cfg := &c.cfg
	var b [64]byte
	s := AppendSettings(b[:0],
		Setting{SettingHeaderTableSize, cfg.HeaderTableSize},
		Setting{SettingEnablePush, 0},
		Setting{SettingMaxConcurrentStreams, cfg.MaxConcurrentStreams},
		Setting{SettingInitialWindowSize, cfg.InitialWindowSize},
		Setting{SettingMaxFrameSize, cfg.MaxFrameSize},
		Setting{SettingMaxHeaderListSize, cfg.MaxHeaderListSize})
	c.write(s)
	if inc := cfg.ConnWindowSize - defaultWindow; inc > 0 {
		c.write(AppendWindowUpdate(b[:0], 0, inc))
	}
	c.setSentAt = time.Now()
	c.timer = time.AfterFunc(c.tick(), c.watch)
	return c.flush()
}

// write copies b into the transport's buffer; errors stick in werr.
func (c *Conn) write(b []byte) {
	if c.werr != nil {
		return
	}
	buf, err := c.w.Malloc(len(b))
	if err != nil {
		c.werr = err
		return
	}
	copy(buf, b)
	c.dirty = true
}

// frame reserves a frame with header h and returns its payload to fill.
func (c *Conn) frame(h FrameHeader) []byte {
	if c.werr != nil {
		return nil
	}
	buf, err := c.w.Malloc(FrameHeaderLen + int(h.Length))
	if err != nil {
		c.werr = err
		return nil
	}
	putFrameHeader(buf, h)
	c.dirty = true
	return buf[FrameHeaderLen:]
}

// Cork defers the flushes of writes to c until the matching Uncork; calls
// nest. A relay corks the connections it writes to while it handles one
// input batch of another connection, so a response's HEADERS, DATA and
// trailers leave in one syscall instead of three.
func (c *Conn) Cork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked++
}

// Uncork ends a Cork and flushes when the last one ends; then it delivers
// the callbacks that writes made meanwhile queued. Call it with no lock of
// the handlers' held.
func (c *Conn) Uncork() error {
	last, err := c.lockedUncork()
	if last {
		c.deliver()
	}
	return err
}

func (c *Conn) lockedUncork() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked > 0 {
		c.corked--
	}
	return c.corked == 0, c.flushSoon()
}

// flushSoon flushes unless Serve is running: then its flush at the end of
// the input batch carries this write too, so a response written from a
// callback costs no extra syscall.
func (c *Conn) flushSoon() error {
	if c.serving || c.corked > 0 {
		return c.werr
	}
	return c.flush()
}

func (c *Conn) flush() error {
	if c.dirty && c.werr == nil {
		c.dirty = false
		c.werr = c.w.Flush()
	}
	return c.werr
}

// Available reports the client's free stream slots: 0 once draining
// (GOAWAY either way) or closed.
func (c *Conn) Available() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.goAway || c.draining || c.drained || c.closing || c.nextID > maxWindow {
		return 0
	}
	if now := time.Now(); !c.pingSent.IsZero() && min(now.Sub(c.pingSent), now.Sub(c.heard(now))) > activePing {
		return 0 // silent past a PING: suspect, until it answers or speaks
	}
	return max(0, int(min(c.cfg.MaxConcurrentStreams, c.peer.maxStreams))-c.nLocal)
}

// Active reports the streams we opened that are still open (a client's
// requests in flight), for least-request balancing.
func (c *Conn) Active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nLocal
}

// Draining reports whether the connection will never take a new stream:
// either side sent GOAWAY, or it is closing or closed. A full connection
// is not draining.
func (c *Conn) Draining() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil || c.goAway || c.draining || c.drained || c.closing || c.nextID > maxWindow
}

// PeerGoAway returns the last GOAWAY the peer sent, if any: an owner
// learns from it why the connection ended (a gRPC backend's
// "too_many_pings", say).
func (c *Conn) PeerGoAway() (GoAwayError, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.goneAway, c.drained
}

// Err returns the error that finished the connection (a protocol error,
// ErrPingTimeout, a SETTINGS timeout, the transport's loss once Closed
// ran), or nil while it is open or after a graceful close.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Shutdown starts a graceful close (RFC 9113 §6.8). A server first sends
// GOAWAY with the largest stream id and a PING: streams the client opens
// meanwhile are still served. On the PING's ACK (or after shutdownWait)
// the final GOAWAY names the last stream processed; in-flight streams
// finish, then the transport is closed. A client sends one GOAWAY.
func (c *Conn) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.goAway || c.draining {
		return
	}
	var b [64]byte
	if !c.server {
		c.finalGoAway()
		return
	}
	c.draining = true
	p := AppendGoAway(b[:0], maxWindow, ErrCodeNo, nil)
	c.write(AppendPing(p, false, shutdownPing))
	c.flushSoon()
	time.AfterFunc(shutdownWait, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.finalGoAway()
	})
}

// shutdownPing marks the PING of a two-phase shutdown; shutdownWait bounds
// the wait for its ACK.
var shutdownPing = [8]byte{'s', 'h', 'u', 't', 'd', 'o', 'w', 'n'}

const shutdownWait = time.Second

// finalGoAway sends the GOAWAY that stops new streams, under the lock.
func (c *Conn) finalGoAway() {
	if c.err != nil || c.goAway {
		return
	}
	c.goAway = true
	var b [32]byte
	c.write(AppendGoAway(b[:0], c.lastPeer, ErrCodeNo, nil))
	c.flushSoon()
	c.idleDone()
}

// idleDone closes a draining connection once its last stream is gone:
// after our GOAWAY, or the server's GOAWAY on a client. The close waits
// lingerTime so frames still in flight from the peer do not turn it into
// a TCP reset that could destroy what we sent last.
func (c *Conn) idleDone() {
	if (c.goAway || (c.drained && !c.server)) && len(c.streams) == 0 && !c.closing {
		c.closing = true
		time.AfterFunc(lingerTime, c.close)
	}
}

func (c *Conn) close() {
	if c.closeFn != nil {
		c.closeFn()
	}
}

// Gone stops every later write at once: the transport is closing and its
// buffers may be freed as soon as Gone returns. Call it synchronously from
// the transport's close callback (it only takes the lock); Closed, which
// runs the streams' OnClose, may follow on another goroutine.
func (c *Conn) Gone(err error) {
	if err == nil {
		err = ErrConnClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.werr == nil {
		c.werr = err
	}
}

// Closed tells the connection its transport is gone: every open stream
// gets OnClose(err) once, on the caller's goroutine unless another
// deliverer is at work. Safe to call more than once.
func (c *Conn) Closed(err error) {
	if err == nil {
		err = ErrConnClosed
	}
	c.lockedFinish(err)
	c.deliver()
}

func (c *Conn) lockedFinish(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finishConn(err)
}

// finishConn marks the connection finished and closes every stream.
func (c *Conn) finishConn(err error) {
	if c.err == nil {
		c.err = err
	}
	if c.werr == nil {
		c.werr = err
	}
	c.closing = true
	if c.timer != nil {
		c.timer.Stop()
	}
	for _, s := range c.streams {
		c.finish(s, err)
	}
}

// lingerTime is how long input is discarded after an error GOAWAY before
// the transport is closed.
const lingerTime = 500 * time.Millisecond

// fail ends the connection after a protocol error: a ConnError is sent as
// GOAWAY first. It returns the error Serve reports.
func (c *Conn) fail(err error) error {
	err = c.lockedFail(err)
	c.deliver()
	return err
}

func (c *Conn) lockedFail(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if ce, ok := err.(ConnError); ok {
			var b [64]byte
			var debug []byte
			if ce.Cause != nil {
				debug = []byte(ce.Cause.Error())
			}
			c.write(AppendGoAway(b[:0], c.lastPeer, ce.Code, debug))
			if c.flush() == nil && !c.closing {
				// Closing with unread input would make the kernel send
				// RST, which can destroy the GOAWAY in flight: discard
				// input for a moment first (lingering close).
				c.linger = true
				time.AfterFunc(lingerTime, c.close)
			}
		}
	}
	c.finishConn(err)
	return c.err
}

func (c *Conn) lockedLinger() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.linger
}

// broken ends a connection whose state can no longer be trusted, under
// the lock: every stream closes with err, the transport closes, and the
// panic is reported (or raised again when no one listens).
func (c *Conn) broken(err *PanicError) {
	c.finishConn(err)
	time.AfterFunc(0, c.close) // closeFn may take locks of its own
	if c.cfg.OnPanic == nil {
		panic(err)
	}
	c.cfg.OnPanic(err)
}

// Abort ends the connection after its owner failed while serving it (a
// panic in a handler): GOAWAY INTERNAL_ERROR, every stream closed with
// err, then the transport closed.
func (c *Conn) Abort(err error) {
	c.fail(ConnError{Code: ErrCodeInternal, Cause: err})
	if !c.lockedLinger() {
		c.close()
	}
}

// Handlers calls fn with the handler of every open stream, without the
// lock held (a snapshot: streams may close meanwhile). A gateway that
// drains uses it to end what is left at its deadline.
func (c *Conn) Handlers(fn func(StreamHandler)) {
	for _, h := range c.lockedHandlers() {
		fn(h)
	}
}

func (c *Conn) lockedHandlers() []StreamHandler {
	c.mu.Lock()
	defer c.mu.Unlock()
	hs := make([]StreamHandler, 0, len(c.streams))
	for _, s := range c.streams {
		if s.h != nil {
			hs = append(hs, s.h)
		}
	}
	return hs
}

func (c *Conn) addQueued(n int) {
	c.queued += n
	if c.cfg.OnQueued != nil && n != 0 {
		c.cfg.OnQueued(n)
	}
}

// ResetStalled resets, with code, the streams whose queued output has
// made no progress for age (the peer gives them no window), and reports
// how many. An owner over its memory budget sheds the worst connections'
// stalled streams with it; well-behaved streams keep flowing.
func (c *Conn) ResetStalled(age time.Duration, code ErrCode) int {
	c.mu.Lock()
	defer c.release()
	now, n := time.Now(), 0
	for i := 0; i < len(c.blocked); i++ {
		if s := c.blocked[i]; now.Sub(s.progress) >= age {
			c.resetLocked(s, code, ErrStalled)
			i--
			n++
		}
	}
	c.flushSoon()
	c.idleDone()
	return n
}
