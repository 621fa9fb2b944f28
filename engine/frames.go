package engine

import "encoding/binary"

// msgReader reassembles gRPC length-prefixed messages from DATA frames. A
// message that arrives whole inside one frame is handed out in place; only a
// message split across frames is copied into buf.
type msgReader struct {
	buf  []byte
	max  int
	hdr  [5]byte
	nhdr int
	need int // bytes of the current message still missing, -1 when reading a header
}

// grpcMsg is one message: its flags byte and payload.
type grpcMsg struct {
	flags byte
	data  []byte
}

func (m *msgReader) reset(max int) { m.buf, m.max, m.nhdr, m.need = m.buf[:0], max, 0, -1 }

// feed walks p and calls fn for every complete message. fn's data is valid
// only during the call. It returns false when a message exceeds max.
func (m *msgReader) feed(p []byte, fn func(grpcMsg) bool) bool {
	for len(p) > 0 {
		if m.need < 0 {
			if m.nhdr == 0 && len(p) >= 5 {
				n := int(binary.BigEndian.Uint32(p[1:5]))
				if n > m.max {
					return false
				}
				if len(p)-5 >= n { // whole message in place: no copy
					if !fn(grpcMsg{p[0], p[5 : 5+n]}) {
						return false
					}
					p = p[5+n:]
					continue
				}
				m.hdr[0], m.need = p[0], n
				m.buf = append(m.buf[:0], p[5:]...)
				m.need -= len(p) - 5
				return true
			}
			k := copy(m.hdr[m.nhdr:], p)
			m.nhdr += k
			p = p[k:]
			if m.nhdr < 5 {
				return true
			}
			m.nhdr = 0
			m.need = int(binary.BigEndian.Uint32(m.hdr[1:5]))
			if m.need > m.max {
				return false
			}
			m.buf = m.buf[:0]
		}
		k := min(m.need, len(p))
		m.buf = append(m.buf, p[:k]...)
		m.need -= k
		p = p[k:]
		if m.need == 0 {
			m.need = -1
			if !fn(grpcMsg{m.hdr[0], m.buf}) {
				return false
			}
		}
	}
	return true
}

// putPrefix writes the 5-byte gRPC prefix for an uncompressed message of n bytes.
func putPrefix(b []byte, n int) {
	b[0] = 0
	binary.BigEndian.PutUint32(b[1:5], uint32(n))
}
