package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// webTextCall makes c as gRPC-Web text (application/grpc-web-text,
// base64 both ways) with net/http over HTTP/1.1 or x/net over h2c. The
// whole request body goes first (half duplex), as browsers send it.
func webTextCall(ctx context.Context, hc *http.Client, addr string, c *fcase) *outcome {
	return webCall(ctx, hc, addr, c, true)
}

// webCall makes c as gRPC-Web, text or binary, with a hand-made request:
// content type application/grpc-web[-text][+json], grpc-timeout from
// c.timeout.
func webCall(ctx context.Context, hc *http.Client, addr string, c *fcase, text bool) *outcome {
	ctype := "application/grpc-web"
	if text {
		ctype += "-text"
	}
	accept := ctype
	if c.json {
		ctype += "+json"
	}
	frames, err := c.webFrames()
	if err != nil {
		return &outcome{err: err}
	}
	h := c.header()
	h[echo.RequestIDKey] = []string{c.id}
	h["Accept"] = []string{accept}
	h["X-Grpc-Web"] = []string{"1"}
	h["Grpc-Timeout"] = []string{strconv.FormatInt(c.timeout.Milliseconds(), 10) + "m"}
	if c.gzip {
		h["Grpc-Encoding"] = []string{"gzip"}
		h["Grpc-Accept-Encoding"] = []string{"gzip"}
	}
	split := len(c.reqs) > 0 && c.reqs[0].Seed&1 == 1
	return webDo(ctx, hc, "http://"+addr+"/strait.test.v1.Echo/"+c.k.method(), ctype, h, frames, text, split, pick(c.json, "json", "proto"))
}

// webDo posts frames as a gRPC-Web body (base64 for text: one run, or
// one padded run per frame when split) and reads the answer in codec
// ("" accepts any).
func webDo(ctx context.Context, hc *http.Client, url, ctype string, h http.Header, frames [][]byte, text, split bool, codec string) *outcome {
	body := bytes.Join(frames, nil)
	if text && split {
		body = nil
		for _, f := range frames {
			body = base64.StdEncoding.AppendEncode(body, f)
		}
	} else if text {
		body = base64.StdEncoding.AppendEncode(nil, body)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return &outcome{err: err}
	}
	req.Header = h
	h["Content-Type"] = []string{ctype}
	resp, err := hc.Do(req)
	if err != nil {
		return &outcome{err: err}
	}
	defer resp.Body.Close()
	return readWebResponse(resp, text, codec)
}

// webFrames makes (once) the gRPC-Web frames of c's messages.
func (c *fcase) webFrames() ([][]byte, error) {
	if c.frames != nil {
		return c.frames, nil
	}
	frames := [][]byte{}
	for _, r := range c.reqs {
		f, err := webFrame(r, c.json, c.gzip)
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
	}
	c.frames = frames
	return frames, nil
}

// webFrame is one gRPC-Web message frame: flag, length, message.
func webFrame(m proto.Message, json, gz bool) ([]byte, error) {
	var b []byte
	var err error
	if json {
		b, err = protojson.Marshal(m)
	} else {
		b, err = proto.Marshal(m)
	}
	if err != nil {
		return nil, err
	}
	flag := byte(0)
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		_, _ = w.Write(b)
		_ = w.Close()
		b, flag = z.Bytes(), 1
	}
	f := []byte{flag, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(f[1:], uint32(len(b)))
	return append(f, b...), nil
}

// readWebResponse reads a gRPC-Web answer (text or binary) as PROTOCOL-WEB
// says: HTTP 200, message frames, then one trailer frame; or a
// trailers-only answer with the status in the headers.
func readWebResponse(resp *http.Response, text bool, codec string) *outcome {
	o := &outcome{status: resp.StatusCode, hdr: lowerHeader(resp.Header)}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		o.err = fmt.Errorf("reading body: %w", err)
		return o
	}
	want := "application/grpc-web"
	if text {
		want += "-text"
	}
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode != 200 {
		o.err = fmt.Errorf("HTTP status %d (content-type %q, body %s)", resp.StatusCode, ct, short(string(data)))
		return o
	}
	json := codec == "json"
	switch {
	case codec == "" && strings.HasPrefix(ct, want):
	case json && ct == want+"+json":
	case codec == "proto" && (ct == want || ct == want+"+proto"):
	default:
		o.err = fmt.Errorf("response content-type %q for a %s+%s request", ct, want, codec)
		return o
	}
	readWebBody(o, resp.Header, data, text, json)
	return o
}

// readWebBody reads message frames and the trailer frame into o.
func readWebBody(o *outcome, h http.Header, data []byte, text, json bool) {
	var err error
	if text {
		if data, err = decodeBase64Runs(data); err != nil {
			o.err = fmt.Errorf("response body: %v", err)
			return
		}
	}
	gz := h.Get("Grpc-Encoding") == "gzip"
	for len(data) > 0 {
		if len(data) < 5 {
			o.err = fmt.Errorf("truncated frame header (%d bytes)", len(data))
			return
		}
		flag, n := data[0], int(binary.BigEndian.Uint32(data[1:5]))
		if len(data)-5 < n {
			o.err = fmt.Errorf("truncated frame: %d of %d bytes", len(data)-5, n)
			return
		}
		p := data[5 : 5+n]
		data = data[5+n:]
		if flag&1 != 0 {
			if !gz {
				o.err = fmt.Errorf("compressed frame without grpc-encoding")
				return
			}
			if p, err = gunzip(p); err != nil {
				o.err = err
				return
			}
		}
		if flag&0x80 != 0 {
			if len(data) > 0 {
				o.err = fmt.Errorf("%d bytes after the trailer frame", len(data))
			}
			if err := o.webTrailers(p); err != nil && o.err == nil {
				o.err = err
			}
			return
		}
		m := new(pb.EchoResponse)
		if json {
			err = protojson.Unmarshal(p, m)
		} else {
			err = proto.Unmarshal(p, m)
		}
		if err != nil {
			o.err = fmt.Errorf("message %d: %v", len(o.msgs), err)
			return
		}
		o.msgs = append(o.msgs, m)
	}
	if len(o.msgs) == 0 && len(o.hdr["grpc-status"]) > 0 { // trailers-only
		o.trl = o.hdr
		if err := o.takeStatus(); err != nil {
			o.err = err
		}
		return
	}
	o.err = fmt.Errorf("no trailer frame")
}

// webTrailers parses the trailer frame: HTTP/1 header lines.
func (o *outcome) webTrailers(p []byte) error {
	r := textproto.NewReader(bufioReader(append(p, "\r\n"...)))
	h, err := r.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return fmt.Errorf("trailer frame %s: %v", short(string(p)), err)
	}
	o.trl = lowerHeader(http.Header(h))
	return o.takeStatus()
}

// takeStatus moves grpc-status, -message and -status-details-bin out of
// the trailers into the outcome.
func (o *outcome) takeStatus() error {
	t := o.trl
	defer func() { delete(t, "grpc-status"); delete(t, "grpc-message"); delete(t, "grpc-status-details-bin") }()
	gs := t["grpc-status"]
	if len(gs) != 1 {
		return fmt.Errorf("grpc-status %q in trailers", gs)
	}
	n, err := strconv.Atoi(gs[0])
	if err != nil {
		return fmt.Errorf("grpc-status %q", gs[0])
	}
	o.code = codes.Code(n)
	if m := t["grpc-message"]; len(m) > 0 {
		o.msg = decodeGRPCMessage(m[0])
	}
	if d := t["grpc-status-details-bin"]; len(d) > 0 {
		var st spb.Status
		if err := proto.Unmarshal([]byte(d[0]), &st); err != nil {
			return fmt.Errorf("grpc-status-details-bin: %v", err)
		}
		for _, a := range st.Details {
			var ed pb.ErrorDetail
			if err := a.UnmarshalTo(&ed); err != nil {
				return fmt.Errorf("detail %s: %v", a.TypeUrl, err)
			}
			o.details = append(o.details, ed.Data)
		}
	}
	return nil
}

// decodeGRPCMessage undoes grpc-message percent-encoding.
func decodeGRPCMessage(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decodeBase64Runs decodes a grpc-web-text body: base64 runs, each of
// which may end in its own padding.
func decodeBase64Runs(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		n := len(b)
		if i := bytes.IndexByte(b, '='); i >= 0 {
			for n = i; n < len(b) && b[n] == '='; n++ {
			}
		}
		var err error
		if out, err = base64.StdEncoding.AppendDecode(out, b[:n]); err != nil {
			return nil, err
		}
		b = b[n:]
	}
	return out, nil
}

func gunzip(p []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(p))
	if err != nil {
		return nil, fmt.Errorf("gzip frame: %v", err)
	}
	return io.ReadAll(r)
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
