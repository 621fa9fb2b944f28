package engine

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/straitgw/strait/transcode"
)

// webMode is the gRPC-Web wire flavour a client asked for.
type webMode uint8

const (
	webBinary webMode = iota // application/grpc-web[+proto]
	webText                  // application/grpc-web-text: base64 both ways
)

// grpcWebMode classifies a content type; ok is false for non-gRPC-Web.
func grpcWebMode(ctype string) (webMode, bool) {
	if !strings.HasPrefix(ctype, "application/grpc-web") {
		return 0, false
	}
	if strings.HasPrefix(ctype, "application/grpc-web-text") {
		return webText, true
	}
	return webBinary, true
}

func (m webMode) contentType() string {
	if m == webText {
		return "application/grpc-web-text+proto"
	}
	return "application/grpc-web+proto"
}

// webMessage relays one message frame as it is (base64 for text mode).
func (c *call) webMessage(m grpcMsg) {
	if !c.started {
		c.started = true
		c.out.head(200, c.web.contentType(), c.hdrs, -1)
	}
	c.scratch = append(c.scratch[:0], 0, 0, 0, 0, 0)
	putPrefix(c.scratch, len(m.data))
	c.scratch = append(c.scratch, m.data...)
	c.out.body(c.webEncode(c.scratch), false)
}

// webFinish sends the trailers as the final, 0x80-flagged frame.
func (c *call) webFinish() {
	t := &c.trail
	if !c.started {
		c.started = true
		c.out.head(200, c.web.contentType(), c.hdrs, -1)
	}
	b := append(c.scratch[:0], 0x80, 0, 0, 0, 0)
	b = append(b, "grpc-status: "...)
	b = strconv.AppendUint(b, uint64(t.code), 10)
	b = append(b, "\r\n"...)
	if t.message != "" {
		b = append(b, "grpc-message: "...)
		b = append(b, transcode.EncodeGRPCMessage(t.message)...)
		b = append(b, "\r\n"...)
	}
	for _, f := range t.meta {
		b = append(b, f.Name...)
		b = append(b, ": "...)
		b = append(b, f.Value...)
		b = append(b, "\r\n"...)
	}
	putPrefix(b, len(b)-5)
	b[0] = 0x80
	c.scratch = b
	c.out.body(c.webEncode(b), true)
}

// webEncode base64-encodes a frame in text mode; each frame is padded on
// its own, which the gRPC-Web spec allows.
func (c *call) webEncode(frame []byte) []byte {
	if c.web != webText {
		return frame
	}
	n := base64.StdEncoding.EncodedLen(len(frame))
	out := make([]byte, n)
	base64.StdEncoding.Encode(out, frame)
	return out
}

// decodeWebText turns a grpc-web-text request body into binary frames.
// A client may send several base64 chunks, each padded on its own, one
// after another: each padded run is decoded separately.
func decodeWebText(body []byte) ([]byte, error) {
	out := make([]byte, 0, base64.StdEncoding.DecodedLen(len(body)))
	for len(body) > 0 {
		n := len(body)
		if i := bytes.IndexByte(body, '='); i >= 0 {
			for n = i; n < len(body) && body[n] == '='; n++ {
			}
		}
		var err error
		if out, err = base64.StdEncoding.AppendDecode(out, body[:n]); err != nil {
			return nil, err
		}
		body = body[n:]
	}
	return out, nil
}
