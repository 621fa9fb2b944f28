package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
)

// gRPC-Web (PROTOCOL-WEB.md in grpc/grpc) is gRPC with its trailers moved
// into the body: a last frame flagged 0x80 holding them as HTTP/1 header
// lines. The text variant base64-encodes the body both ways. Messages
// pass through as they are, compressed or not, in whatever codec the
// content type names.

// webType is a gRPC-Web content type, parsed.
type webType struct {
	text  bool   // application/grpc-web-text
	codec string // after '+': "proto", "json"...; "" when absent
}

var errWebType = errors.New("not a gRPC-Web content type")

// parseWebType reads application/grpc-web[-text][+codec][;params].
func parseWebType(ctype string) (webType, error) {
	mt, _, _ := strings.Cut(ctype, ";")
	mt = strings.TrimSpace(mt)
	rest, ok := strings.CutPrefix(mt, "application/grpc-web")
	if !ok {
		return webType{}, errWebType
	}
	var t webType
	if r, ok := strings.CutPrefix(rest, "-text"); ok {
		t.text, rest = true, r
	}
	if rest == "" {
		return t, nil
	}
	codec, ok := strings.CutPrefix(rest, "+")
	if !ok || !filter.IsToken(codec) {
		return webType{}, errWebType
	}
	t.codec = codec
	return t, nil
}

// upstreamType is the gRPC content type a gRPC-Web request becomes.
func (t webType) upstreamType() string {
	switch t.codec {
	case "":
		return "application/grpc"
	case "proto":
		return "application/grpc+proto"
	}
	return "application/grpc+" + t.codec
}

// responseType is the content type of the response: the client's own
// media type, as clients check that the codec they asked for came back.
func responseType(ctype string) string {
	mt, _, _ := strings.Cut(ctype, ";")
	return strings.TrimSpace(mt)
}

// appendTrailerFrame appends the 0x80 frame carrying fields as
// "name: value\r\n" lines; pseudo-headers are not trailers.
func appendTrailerFrame(dst []byte, fields []h2.Field) []byte {
	start := len(dst)
	dst = append(dst, 0x80, 0, 0, 0, 0)
	for _, f := range fields {
		if f.Name == "" || f.Name[0] == ':' || relaySkip[f.Name] {
			continue
		}
		v := f.Value
		if f.Name == "grpc-message" {
			v = rpc.Reencode(v) // the frame's lines are trimmed like HTTP/1.1's
		}
		dst = append(dst, f.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, v...)
		dst = append(dst, "\r\n"...)
	}
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-5))
	return dst
}

// textDecoder decodes a grpc-web-text body that arrives in pieces. Clients
// may send several base64 runs, each padded on its own: every 4-character
// group is decoded by itself, and a partial group waits for the next piece.
type textDecoder struct {
	part [4]byte
	n    int
}

var errWebText = errors.New("grpc-web-text body is not base64")

// decode appends the bytes of src's complete groups to dst; with end, a
// partial group left over is an error.
func (d *textDecoder) decode(dst, src []byte, end bool) ([]byte, error) {
	var err error
	if d.n > 0 {
		k := copy(d.part[d.n:], src)
		d.n += k
		src = src[k:]
		if d.n < 4 {
			return dst, d.check(end)
		}
		if dst, err = appendGroups(dst, d.part[:]); err != nil {
			return dst, err
		}
		d.n = 0
	}
	full := len(src) - len(src)%4
	if dst, err = appendGroups(dst, src[:full]); err != nil {
		return dst, err
	}
	d.n = copy(d.part[:], src[full:])
	return dst, d.check(end)
}

func (d *textDecoder) check(end bool) error {
	if end && d.n > 0 {
		return errWebText
	}
	return nil
}

// appendGroups decodes whole 4-character groups, where padding may end a
// group that other groups follow.
func appendGroups(dst, src []byte) ([]byte, error) {
	for len(src) > 0 {
		n := len(src)
		if i := bytes.IndexByte(src, '='); i >= 0 {
			n = (i/4 + 1) * 4
		}
		var err error
		if dst, err = base64.StdEncoding.AppendDecode(dst, src[:n]); err != nil {
			return dst, errWebText
		}
		src = src[n:]
	}
	return dst, nil
}

// appendText base64-encodes one piece of a grpc-web-text response, padded:
// each piece decodes on its own, so a message is never held back waiting
// for bytes of the next.
func appendText(dst, p []byte) []byte { return base64.StdEncoding.AppendEncode(dst, p) }
