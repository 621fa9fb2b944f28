package h2

import "encoding/binary"

// FrameType is the type octet of a frame header (RFC 9113 §6).
type FrameType uint8

// Frame types of RFC 9113 §6.
const (
	FrameData         FrameType = 0x0
	FrameHeaders      FrameType = 0x1
	FramePriority     FrameType = 0x2
	FrameRSTStream    FrameType = 0x3
	FrameSettings     FrameType = 0x4
	FramePushPromise  FrameType = 0x5
	FramePing         FrameType = 0x6
	FrameGoAway       FrameType = 0x7
	FrameWindowUpdate FrameType = 0x8
	FrameContinuation FrameType = 0x9
)

// Flags is the flags octet of a frame header; meanings depend on the type.
type Flags uint8

// Frame flags (RFC 9113 §6).
const (
	FlagEndStream  Flags = 0x1
	FlagAck        Flags = 0x1
	FlagEndHeaders Flags = 0x4
	FlagPadded     Flags = 0x8
	FlagPriority   Flags = 0x20
)

// SettingID identifies a SETTINGS parameter (RFC 9113 §6.5.2).
type SettingID uint16

// Settings of RFC 9113 §6.5.2.
const (
	SettingHeaderTableSize      SettingID = 0x1
	SettingEnablePush           SettingID = 0x2
	SettingMaxConcurrentStreams SettingID = 0x3
	SettingInitialWindowSize    SettingID = 0x4
	SettingMaxFrameSize         SettingID = 0x5
	SettingMaxHeaderListSize    SettingID = 0x6
)

// Setting is one SETTINGS parameter.
type Setting struct {
	ID  SettingID
	Val uint32
}

// Protocol constants.
const (
	FrameHeaderLen     = 9
	Preface            = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	defaultWindow      = 65535
	minMaxFrameSize    = 1 << 14
	maxMaxFrameSize    = 1<<24 - 1
	maxWindow          = 1<<31 - 1
	defaultHeaderTable = 4096
)

// FrameHeader is the fixed 9-octet prefix of every frame (RFC 9113 §4.1).
type FrameHeader struct {
	Length   uint32
	Type     FrameType
	Flags    Flags
	StreamID uint32
}

// Has reports whether all of f are set.
func (h FrameHeader) Has(f Flags) bool { return h.Flags&f == f }

// AppendFrameHeader appends the 9-octet encoding of h; the reserved bit is
// always written as zero.
func AppendFrameHeader(dst []byte, h FrameHeader) []byte {
	return append(dst, byte(h.Length>>16), byte(h.Length>>8), byte(h.Length),
		byte(h.Type), byte(h.Flags),
		byte(h.StreamID>>24)&0x7f, byte(h.StreamID>>16), byte(h.StreamID>>8), byte(h.StreamID))
}

// ConsumeFrameHeader decodes a frame header from b, ignoring the reserved
// bit. n is -1 if b is shorter than FrameHeaderLen.
func ConsumeFrameHeader(b []byte) (h FrameHeader, n int) {
	if len(b) < FrameHeaderLen {
		return h, -1
	}
	h.Length = uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	h.Type = FrameType(b[3])
	h.Flags = Flags(b[4])
	h.StreamID = binary.BigEndian.Uint32(b[5:]) & (1<<31 - 1)
	return h, FrameHeaderLen
}

func putFrameHeader(b []byte, h FrameHeader) {
	b[0], b[1], b[2] = byte(h.Length>>16), byte(h.Length>>8), byte(h.Length)
	b[3], b[4] = byte(h.Type), byte(h.Flags)
	binary.BigEndian.PutUint32(b[5:], h.StreamID&(1<<31-1))
}

// Priority is the stream dependency of a PRIORITY frame or a HEADERS frame
// with FlagPriority. strait parses it for validation and otherwise
// ignores it (RFC 9113 §5.3.2 deprecates the scheme).
type Priority struct {
	StreamDep uint32
	Exclusive bool
	Weight    uint8
}

// ConsumePadding strips padding from a DATA or HEADERS payload (RFC 9113
// §6.1). ok is false if the pad length covers the whole payload.
func ConsumePadding(h FrameHeader, p []byte) (body []byte, ok bool) {
	if !h.Has(FlagPadded) {
		return p, true
	}
	if len(p) < 1 || int(p[0]) >= len(p) {
		return nil, false
	}
	return p[1 : len(p)-int(p[0])], true
}

// ConsumeHeadersPayload returns the header block fragment of a HEADERS
// payload and its priority fields, if any.
func ConsumeHeadersPayload(h FrameHeader, p []byte) (frag []byte, pr Priority, ok bool) {
	frag, ok = ConsumePadding(h, p)
	if !ok || !h.Has(FlagPriority) {
		return frag, pr, ok
	}
	if len(frag) < 5 {
		return nil, pr, false
	}
	pr = consumePriority(frag)
	return frag[5:], pr, true
}

// ConsumePriorityPayload decodes a PRIORITY payload; ok is false unless it
// is exactly five octets (RFC 9113 §6.3).
func ConsumePriorityPayload(p []byte) (pr Priority, ok bool) {
	if len(p) != 5 {
		return pr, false
	}
	return consumePriority(p), true
}

func consumePriority(p []byte) Priority {
	v := binary.BigEndian.Uint32(p)
	return Priority{StreamDep: v & (1<<31 - 1), Exclusive: v>>31 == 1, Weight: p[4]}
}

// ConsumeSettings calls fn for every parameter of a SETTINGS payload whose
// length the caller checked to be a multiple of six. It stops at the first
// error fn returns.
func ConsumeSettings(p []byte, fn func(Setting) error) error {
	for ; len(p) >= 6; p = p[6:] {
		s := Setting{ID: SettingID(binary.BigEndian.Uint16(p)), Val: binary.BigEndian.Uint32(p[2:])}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// AppendSettings appends a SETTINGS frame carrying s.
func AppendSettings(dst []byte, s ...Setting) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(6 * len(s)), Type: FrameSettings})
	for _, v := range s {
		dst = binary.BigEndian.AppendUint16(dst, uint16(v.ID))
		dst = binary.BigEndian.AppendUint32(dst, v.Val)
	}
	return dst
}

// AppendData appends one DATA frame; p must fit the peer's frame size.
func AppendData(dst []byte, id uint32, end bool, p []byte) []byte {
	var f Flags
	if end {
		f = FlagEndStream
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(len(p)), Type: FrameData, Flags: f, StreamID: id})
	return append(dst, p...)
}

// AppendRSTStream appends an RST_STREAM frame.
func AppendRSTStream(dst []byte, id uint32, code ErrCode) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: 4, Type: FrameRSTStream, StreamID: id})
	return binary.BigEndian.AppendUint32(dst, uint32(code))
}

// AppendWindowUpdate appends a WINDOW_UPDATE frame.
func AppendWindowUpdate(dst []byte, id, incr uint32) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: 4, Type: FrameWindowUpdate, StreamID: id})
	return binary.BigEndian.AppendUint32(dst, incr&(1<<31-1))
}

// AppendPing appends a PING frame.
func AppendPing(dst []byte, ack bool, data [8]byte) []byte {
	var f Flags
	if ack {
		f = FlagAck
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: 8, Type: FramePing, Flags: f})
	return append(dst, data[:]...)
}

// AppendGoAway appends a GOAWAY frame.
func AppendGoAway(dst []byte, last uint32, code ErrCode, debug []byte) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(8 + len(debug)), Type: FrameGoAway})
	dst = binary.BigEndian.AppendUint32(dst, last&(1<<31-1))
	dst = binary.BigEndian.AppendUint32(dst, uint32(code))
	return append(dst, debug...)
}

// ConsumeGoAway decodes a GOAWAY payload of at least eight octets.
func ConsumeGoAway(p []byte) (last uint32, code ErrCode, debug []byte, ok bool) {
	if len(p) < 8 {
		return 0, 0, nil, false
	}
	last = binary.BigEndian.Uint32(p) & (1<<31 - 1)
	return last, ErrCode(binary.BigEndian.Uint32(p[4:])), p[8:], true
}

// ConsumeUint32 decodes the four-octet payload of RST_STREAM (the error
// code) or WINDOW_UPDATE (the increment, reserved bit cleared by the caller).
func ConsumeUint32(p []byte) (v uint32, ok bool) {
	if len(p) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(p), true
}
