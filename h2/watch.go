package h2

import "time"

// activePing is how long a client connection with requests in flight may
// stay silent before a PING checks it: a backend that froze then stops
// getting new streams (Available) long before the keepalive would tell.
// ping decides whether that PING may go out.
const activePing = 500 * time.Millisecond

// A grpc-go server with its default keepalive policy strikes a PING that
// comes less than 5 min after the previous one (2h when it has no
// streams) unless it sent HEADERS or DATA in between, and at the third
// strike sends GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and closes the
// connection with every stream on it. Only its own HEADERS or DATA reset
// the count, so a backend silent over a long call must not be pinged
// every activePing.

// DefaultPingMinInterval is Config.PingMinInterval's default: grpc-go's
// default keepalive MinTime.
const DefaultPingMinInterval = 5 * time.Minute

// idlePingMin is the least time between PINGs to a silent peer on a
// connection without streams: grpc-go strikes closer ones.
const idlePingMin = 2 * time.Hour

// earlyPings is how many early PINGs (ones such a server strikes) a
// connection with streams open may send while the peer stays silent:
// one, so a backend that froze just after a keepalive PING is still
// found, and the count stays clear of the third strike even if the
// peer's HEADERS or DATA crossed a PING of ours (the strike is then
// charged without the reset we counted).
const earlyPings = 1

// tick is the period of the connection's watchdog: half the shortest
// timeout that applies now, so an idle connection wakes rarely.
func (c *Conn) tick() time.Duration {
	d := c.cfg.StallTimeout / 2
	if !c.setAcked {
		d = min(d, c.cfg.SettingsTimeout/2)
	}
	if c.cfg.KeepAlive > 0 && !c.server {
		d = min(d, c.cfg.KeepAlive/2, c.cfg.PingTimeout/2)
		if c.nLocal > 0 {
			d = min(d, activePing/2)
		}
	}
	if c.cfg.IdleTimeout > 0 {
		d = min(d, c.cfg.IdleTimeout/2)
	}
	return max(d, 5*time.Millisecond)
}

// heard is when the peer last showed it is alive, under the lock: now
// while Serve is handling its input, else when Serve last ran dry. Serve
// may take seconds over input that keeps coming (a busy upstream
// connection under load): the peer is not silent meanwhile, and the ACK
// of a PING we sent may be queued in what Serve has yet to reach.
func (c *Conn) heard(now time.Time) time.Time {
	if c.serving {
		return now
	}
	return c.lastRead
}

// watch runs on a timer: SETTINGS ACK deadline, client keepalive PING,
// idle connections and stalled output. One timer per connection, none per
// stream.
func (c *Conn) watch() {
	err := c.lockedCheck(time.Now())
	c.deliver()
	if err != nil {
		c.fail(err)
		c.close()
	}
}

func (c *Conn) lockedCheck(now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil
	}
	err := c.check(now)
	if err == nil {
		c.flush()
		c.timer.Reset(c.tick())
	}
	c.idleDone()
	return err
}

func (c *Conn) check(now time.Time) error {
	if !c.setAcked && now.Sub(c.setSentAt) > c.cfg.SettingsTimeout {
		return connErr(ErrCodeSettingsTimeout, ErrSettingsTimeout)
	}
	if c.cfg.KeepAlive > 0 && !c.server {
		silent := now.Sub(c.heard(now))
		if !c.pingSent.IsZero() {
			if min(now.Sub(c.pingSent), silent) > c.cfg.PingTimeout {
				return ErrPingTimeout
			}
		} else if silent >= c.cfg.KeepAlive || c.nLocal > 0 && silent >= activePing {
			c.ping(now)
		}
	}
	if c.cfg.IdleTimeout > 0 && len(c.streams) == 0 && !c.goAway &&
		now.Sub(c.lastAct) >= c.cfg.IdleTimeout {
		var b [32]byte
		c.write(AppendGoAway(b[:0], c.lastPeer, ErrCodeNo, []byte("idle")))
		c.goAway = true
	}
	for i := 0; i < len(c.blocked); i++ {
		if s := c.blocked[i]; now.Sub(s.progress) > c.cfg.StallTimeout {
			c.resetLocked(s, ErrCodeCancel, ErrStalled)
			i--
		}
	}
	return nil
}

// ping sends a keepalive PING unless the peer's ping policy would strike
// it (see DefaultPingMinInterval) and the connection has no early PING
// left to spend. Until it goes out the connection is not suspect.
func (c *Conn) ping(now time.Time) {
	struck := c.earlyPing(now)
	if struck && (c.nLocal == 0 || c.early >= earlyPings) {
		return
	}
	switch {
	case c.spoke:
		c.early = 0 // the peer's strikes were reset too
	case struck:
		c.early++
	}
	c.spoke = false
	c.pingLast, c.pingSent = now, now
	var b [32]byte
	c.write(AppendPing(b[:0], false, [8]byte{'k', 'e', 'e', 'p'}))
}

// earlyPing reports whether a PING now would be struck: the peer sent
// neither HEADERS nor DATA since our last PING, and that came less than
// PingMinInterval ago (idlePingMin without streams).
func (c *Conn) earlyPing(now time.Time) bool {
	if c.spoke || c.pingLast.IsZero() {
		return false
	}
	d := c.cfg.PingMinInterval
	if c.nLocal == 0 {
		d = max(d, idlePingMin)
	}
	return now.Sub(c.pingLast) < d
}
