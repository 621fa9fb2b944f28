// Package check makes one real request of each benchmark kind against a
// gateway and verifies the answer (status, grpc-status, message content), so
// the load tools, which count only HTTP statuses, measure correct answers.
// It imports grpc-go and protobuf, never a gateway.
package check

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"github.com/straitgw/strait/perf/internal/payload"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// ErrMismatch is returned when an answer decodes but differs from the request.
var ErrMismatch = errors.New("check: answer differs from what was sent")

// Client returns an HTTP client speaking HTTP/1.1, or prior-knowledge h2c.
// It sends a request's outgoing gRPC metadata (metadata.NewOutgoingContext)
// as headers, so one context carries the same headers to every check.
func Client(h2c bool) *http.Client {
	var p http.Protocols
	if h2c {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	return &http.Client{Transport: mdTransport{&http.Transport{Protocols: &p}}}
}

type mdTransport struct{ http.RoundTripper }

func (t mdTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if md, ok := metadata.FromOutgoingContext(req.Context()); ok {
		req = req.Clone(req.Context())
		for k, vs := range md {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	return t.RoundTripper.RoundTrip(req)
}

// RESTUnary posts body to url and wants a 200 JSON answer equal to want.
func RESTUnary(ctx context.Context, c *http.Client, url string, body []byte, want proto.Message) error {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	b, err := do(c, req)
	if err != nil {
		return err
	}
	got := want.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(b, got); err != nil {
		return fmt.Errorf("check: %s: %w", url, err)
	}
	if !proto.Equal(got, want) {
		return fmt.Errorf("%w: %s", ErrMismatch, url)
	}
	return nil
}

// RESTStream gets url and wants payload.StreamCount records as
// newline-delimited JSON, each bare or wrapped as {"result": ...}.
func RESTStream(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	b, err := do(c, req)
	if err != nil {
		return err
	}
	lines := splitLines(b)
	if len(lines) != payload.StreamCount {
		return fmt.Errorf("%w: %s: %d records, want %d", ErrMismatch, url, len(lines), payload.StreamCount)
	}
	for i, line := range lines {
		if err := sameRecord(line, payload.Record(i)); err != nil {
			return fmt.Errorf("check: %s record %d: %w", url, i, err)
		}
	}
	return nil
}

func do(c *http.Client, req *http.Request) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("check: %s %s: status %d: %.200s", req.Method, req.URL, resp.StatusCode, b)
	}
	return b, nil
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, bytes.Clone(line))
		}
	}
	return out
}

func sameRecord(line []byte, want *benchv1.Record) error {
	var wrapped struct {
		Result json.RawMessage `json:"result"`
	}
	if strings.HasPrefix(string(line), `{"result"`) && json.Unmarshal(line, &wrapped) == nil {
		line = wrapped.Result
	}
	got := &benchv1.Record{}
	if err := protojson.Unmarshal(line, got); err != nil {
		return err
	}
	if !proto.Equal(got, want) {
		return ErrMismatch
	}
	return nil
}
