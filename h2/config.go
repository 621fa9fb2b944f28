package h2

import "time"

// Config tunes one connection. Zero fields take the defaults documented on
// each; the same type serves both sides.
type Config struct {
	// MaxConcurrentStreams is what a server advertises and what a client caps
	// itself to on top of the peer's limit (default 100).
	MaxConcurrentStreams uint32
	// InitialWindowSize is our per-stream receive window (default 1 MiB).
	InitialWindowSize uint32
	// ConnWindowSize is our connection receive window (default 4 MiB).
	ConnWindowSize uint32
	// MaxFrameSize is the largest frame payload we accept (default 16 KiB).
	MaxFrameSize uint32
	// MaxHeaderListSize bounds a decoded header list, RFC 9113 §6.5.2
	// accounting (default 64 KiB).
	MaxHeaderListSize uint32
	// HeaderTableSize is our HPACK decoder's dynamic table (default 4096).
	HeaderTableSize uint32
	// KeepAlive is how long a client connection may be silent before a
	// PING checks it (0 = off: no PINGs at all); PingMinInterval spaces
	// them.
	KeepAlive time.Duration
	// PingTimeout closes the connection when a keepalive PING goes
	// unanswered this long (default KeepAlive, at least 1s).
	PingTimeout time.Duration
	// PingMinInterval is the least time between a client's PINGs while
	// the peer sends no HEADERS or DATA (default DefaultPingMinInterval;
	// 2h at least on a connection without streams), but for one early
	// PING with streams open (watch.go).
	PingMinInterval time.Duration
	// SettingsTimeout bounds the wait for the peer's SETTINGS ACK
	// (default 10s; RFC 9113 §6.5.3).
	SettingsTimeout time.Duration
	// IdleTimeout closes a connection without open streams for this long
	// with GOAWAY NO_ERROR (0 = off).
	IdleTimeout time.Duration
	// StallTimeout resets a stream whose queued output made no progress
	// this long because the peer gives no window (default 30s).
	StallTimeout time.Duration
	// MaxStreamBuffer bounds bytes WriteData queues per stream beyond the
	// peer's window (default 1 MiB); MaxConnBuffer bounds the sum over the
	// connection (default 16 MiB). Past either WriteData returns
	// ErrBufferFull. A relay that withholds Consume at a high-water mark
	// still lets the far peer send up to its window: keep MaxStreamBuffer
	// above high water plus that window.
	MaxStreamBuffer int
	MaxConnBuffer   int
	// Limits are the abuse budgets; zero fields take defaults.
	Limits Limits
	// OnQueued, if set, is told (under the connection's lock: keep it to
	// an atomic add) of every change to the bytes WriteData queued beyond
	// the peer's windows, so an owner can budget them across connections.
	OnQueued func(delta int)
	// OnPanic, if set, is told of a panic h2 recovered from (see
	// PanicError) after it ended the connection; unset, the panic is
	// raised again.
	OnPanic func(err *PanicError)
	// OnWait, if set, runs on the Serve goroutine (no lock held) before
	// Serve blocks for the rest of a partial frame, and after every
	// 64 KiB of input (releaseEvery) when the input does not run dry,
	// so an owner that batches writes to other connections flushes
	// them at least that often, however long one Serve call lasts.
	OnWait func()
	// OnReady, if set, runs once on the Serve goroutine (no lock held)
	// after the peer's first SETTINGS frame has been applied: a client
	// pool opens streams on a connection only from then on, so a peer
	// that accepts TCP and never speaks HTTP/2 takes none.
	OnReady func()
}

// Limits are per-connection token buckets: Burst frames at once, refilled
// at Rate per second. A peer that overdraws one gets GOAWAY
// ENHANCE_YOUR_CALM.
type Limits struct {
	// Control counts PING, SETTINGS, PRIORITY and unknown frames.
	ControlBurst, ControlRate int
	// Reset counts RST_STREAM from the peer and streams we refuse or reset
	// as malformed (Rapid Reset, CVE-2023-44487).
	ResetBurst, ResetRate int
	// Empty counts DATA without payload or END_STREAM and header fragments
	// without payload or END_HEADERS.
	EmptyBurst, EmptyRate int
	// MaxHeaderBlock bounds the raw bytes of one header block across its
	// CONTINUATION frames (default 2*MaxHeaderListSize+16 KiB).
	MaxHeaderBlock int
}

func (c *Config) defaults() {
	def32(&c.MaxConcurrentStreams, 100)
	def32(&c.InitialWindowSize, 1<<20)
	def32(&c.ConnWindowSize, 4<<20)
	def32(&c.MaxFrameSize, minMaxFrameSize)
	def32(&c.MaxHeaderListSize, 64<<10)
	def32(&c.HeaderTableSize, defaultHeaderTable)
	c.InitialWindowSize = min(c.InitialWindowSize, maxWindow)
	c.ConnWindowSize = min(max(c.ConnWindowSize, defaultWindow), maxWindow)
	c.MaxFrameSize = min(max(c.MaxFrameSize, minMaxFrameSize), maxMaxFrameSize)
	if c.PingTimeout <= 0 {
		c.PingTimeout = max(c.KeepAlive, time.Second)
	}
	if c.PingMinInterval <= 0 {
		c.PingMinInterval = DefaultPingMinInterval
	}
	if c.SettingsTimeout <= 0 {
		c.SettingsTimeout = 10 * time.Second
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 30 * time.Second
	}
	defInt(&c.MaxStreamBuffer, 1<<20)
	defInt(&c.MaxConnBuffer, 16<<20)
	l := &c.Limits
	defInt(&l.ControlBurst, 1000)
	defInt(&l.ControlRate, 500)
	defInt(&l.ResetBurst, 500)
	defInt(&l.ResetRate, 100)
	defInt(&l.EmptyBurst, 1000)
	defInt(&l.EmptyRate, 500)
	defInt(&l.MaxHeaderBlock, 2*int(c.MaxHeaderListSize)+16<<10)
}

func def32(p *uint32, v uint32) {
	if *p == 0 {
		*p = v
	}
}

func defInt(p *int, v int) {
	if *p <= 0 {
		*p = v
	}
}

// budget is a token bucket; take reports whether a token was left.
type budget struct {
	tokens, burst, rate float64
	last                time.Time
}

func newBudget(burst, rate int) budget {
	return budget{tokens: float64(burst), burst: float64(burst), rate: float64(rate)}
}

func (b *budget) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
