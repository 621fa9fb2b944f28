package h2

import "errors"

var errBadSetting = errors.New("h2: bad SETTINGS value")

// onSettings applies the peer's SETTINGS and acknowledges them (RFC 9113
// §6.5), under the lock.
func (c *Conn) onSettings(h FrameHeader, p []byte) error {
	switch {
	case h.StreamID != 0:
		return connErr(ErrCodeProtocol, ErrBadStreamID)
	case h.Has(FlagAck):
		if len(p) != 0 {
			return connErr(ErrCodeFrameSize, ErrBadFrame)
		}
		c.setAcked = true
		return nil
	case len(p)%6 != 0:
		return connErr(ErrCodeFrameSize, ErrBadFrame)
	}
	if err := c.calm(&c.ctrl); err != nil {
		return err
	}
	// The ACK goes first so that DATA released by a larger window follows
	// it, as peers expect; an invalid value still ends in GOAWAY.
	c.frame(FrameHeader{Type: FrameSettings, Flags: FlagAck})
	return ConsumeSettings(p, c.applySetting)
}

func (c *Conn) applySetting(s Setting) error {
	switch s.ID {
	case SettingHeaderTableSize:
		c.peer.tableSize = s.Val
		c.henc.setTableLimit(s.Val)
	case SettingEnablePush:
		if s.Val > 1 {
			return connErr(ErrCodeProtocol, errBadSetting)
		}
	case SettingMaxConcurrentStreams:
		c.peer.maxStreams = s.Val
	case SettingInitialWindowSize:
		if s.Val > maxWindow {
			return connErr(ErrCodeFlowControl, errBadSetting)
		}
		return c.setPeerWindow(s.Val)
	case SettingMaxFrameSize:
		if s.Val < minMaxFrameSize || s.Val > maxMaxFrameSize {
			return connErr(ErrCodeProtocol, errBadSetting)
		}
		c.peer.maxFrame = s.Val
	case SettingMaxHeaderListSize:
		c.peer.maxHeaderList = s.Val
	}
	return nil
}
