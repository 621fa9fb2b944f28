package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/straitgw/strait/internal/echopb"
)

// restClient calls the echo service's google.api.http routes.
type restClient struct {
	addr string
	hc   *http.Client // net/http over HTTP/1.1 or x/net over h2c; nil: raw
	raw  net.Conn     // the raw client's keep-alive connection
	br   *bufio.Reader
}

// httpStatus is the standard gRPC code to HTTP status mapping
// (google/rpc/code.proto, as grpc-gateway and Envoy use it).
var httpStatus = [17]int{200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401}

func (rc *restClient) call(ctx context.Context, c *fcase) *outcome {
	method, target, body := "POST", "/v1/echo", []byte(nil)
	m := c.reqs[0]
	switch {
	case c.get:
		method, target = "GET", "/v1/echo/"+url.PathEscape(m.Id)+"?"+restQuery(m)
	case c.k == kindServer:
		target = "/v1/echo:stream"
	}
	if method == "POST" {
		var err error
		if body, err = protojson.Marshal(m); err != nil {
			return &outcome{err: err}
		}
	}
	hdr := c.header()
	hdr["X-Req-Id"] = []string{c.id}
	if body != nil {
		hdr["Content-Type"] = []string{"application/json"}
	}
	if c.k == kindServer {
		hdr["Te"] = []string{"trailers"}
	}
	resp, err := rc.do(ctx, method, target, hdr, c.md, body)
	if err != nil {
		return &outcome{err: err}
	}
	defer resp.Body.Close()
	o := &outcome{status: resp.StatusCode, hdr: lowerHeader(resp.Header)}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		o.err = fmt.Errorf("reading body: %w", err)
		return o
	}
	if c.k == kindServer {
		o.trl = lowerHeader(resp.Trailer)
		parseNDJSON(o, data)
		if o.err == nil && o.status != 200 {
			o.err = fmt.Errorf("HTTP status %d for a stream; body %s", o.status, short(string(data)))
		}
		return o
	}
	o.trl = o.hdr // unary: trailers come as headers
	if o.status == 200 {
		r := new(pb.EchoResponse)
		if err := protojson.Unmarshal(data, r); err != nil {
			o.err = fmt.Errorf("response %s: %v", short(string(data)), err)
			return o
		}
		o.msgs = append(o.msgs, r)
	} else if err := parseStatusJSON(o, data); err != nil {
		o.err = fmt.Errorf("HTTP %d body %s: %v", o.status, short(string(data)), err)
		return o
	}
	if want := httpStatus[min(int(o.code), 16)]; o.status != want {
		o.err = fmt.Errorf("HTTP status %d for gRPC code %v; want %d", o.status, o.code, want)
	}
	if gs := o.hdr["grpc-status"]; len(gs) != 1 || gs[0] != strconv.Itoa(int(o.code)) {
		o.err = fmt.Errorf("grpc-status header %q; want %d", gs, o.code)
	}
	delete(o.hdr, "grpc-status")
	delete(o.hdr, "grpc-message")
	return o
}

func restQuery(m *pb.EchoRequest) string {
	q := url.Values{}
	q.Set("payload", base64.URLEncoding.EncodeToString(m.Payload))
	q.Set("text", m.Text)
	q.Set("seed", strconv.FormatUint(m.Seed, 10))
	if m.FailCode != 0 {
		q.Set("failCode", strconv.Itoa(int(m.FailCode)))
		q.Set("failMessage", m.FailMessage)
		q.Set("failDetails", strconv.FormatBool(m.FailDetails))
	}
	return q.Encode()
}

func (rc *restClient) do(ctx context.Context, method, target string, hdr http.Header, md []field, body []byte) (*http.Response, error) {
	if rc.hc != nil {
		req, err := http.NewRequestWithContext(ctx, method, "http://"+rc.addr+target, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header = hdr
		return rc.hc.Do(req)
	}
	return rc.rawDo(ctx, method, target, hdr, md, body)
}

// rawDo writes the request by hand on a kept-alive socket, the metadata
// in order with each occurrence's own case, and reads the answer with
// net/http's response parser.
func (rc *restClient) rawDo(ctx context.Context, method, target string, hdr http.Header, md []field, body []byte) (*http.Response, error) {
	if rc.raw == nil {
		c, err := dialCtx(ctx, rc.addr)
		if err != nil {
			return nil, err
		}
		rc.raw, rc.br = c, bufio.NewReaderSize(c, 64<<10)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = rc.raw.SetDeadline(d)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, rc.addr)
	for _, f := range md {
		fmt.Fprintf(&b, "%s: %s\r\n", f.name, f.wire())
	}
	for name, vs := range hdr {
		if !isTestKey(strings.ToLower(name)) || name == "X-Req-Id" {
			for _, v := range vs {
				fmt.Fprintf(&b, "%s: %s\r\n", name, v)
			}
		}
	}
	if method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	if _, err := rc.raw.Write(b.Bytes()); err != nil {
		rc.closeRaw()
		return nil, err
	}
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.closeRaw()
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.closeRaw()
		return nil, fmt.Errorf("reading body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if resp.Close {
		rc.closeRaw()
	}
	return resp, nil
}

func (rc *restClient) closeRaw() {
	if rc.raw != nil {
		_ = rc.raw.Close()
		rc.raw, rc.br = nil, nil
	}
}

// parseNDJSON reads a REST stream: one message per line, an error object
// last if the call failed.
func parseNDJSON(o *outcome, data []byte) {
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(line, &e) == nil && e.Error != nil {
			if err := parseStatusJSON(o, e.Error); err != nil {
				o.err = fmt.Errorf("error line %s: %v", short(string(line)), err)
			}
			return
		}
		r := new(pb.EchoResponse)
		if err := protojson.Unmarshal(line, r); err != nil {
			o.err = fmt.Errorf("stream line %s: %v", short(string(line)), err)
			return
		}
		o.msgs = append(o.msgs, r)
	}
}

// parseStatusJSON reads {"code":..,"message":..,"details":[..]}: the
// google.rpc.Status JSON mapping.
func parseStatusJSON(o *outcome, data []byte) error {
	var st status.Status
	if err := protojson.Unmarshal(data, &st); err != nil {
		return err
	}
	o.code, o.msg = codes.Code(st.Code), st.Message
	for _, d := range st.Details {
		var ed pb.ErrorDetail
		if err := d.UnmarshalTo(&ed); err != nil {
			return fmt.Errorf("detail %s: %v", d.TypeUrl, err)
		}
		o.details = append(o.details, ed.Data)
	}
	return nil
}

// lowerHeader gives names in lower case and -bin values decoded.
func lowerHeader(h http.Header) map[string][]string {
	m := make(map[string][]string, len(h))
	for k, vs := range h {
		k = strings.ToLower(k)
		for _, v := range vs {
			m[k] = append(m[k], decodeBinValue(k, v))
		}
	}
	return m
}

// decodeBinValue decodes a -bin value, padded or not; an undecodable one
// is kept marked so it shows up as a mismatch.
func decodeBinValue(k, v string) string {
	if !strings.HasSuffix(k, "-bin") {
		return v
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil {
		return "!undecodable base64: " + v
	}
	return string(b)
}
