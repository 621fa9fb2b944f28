package check

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"github.com/straitgw/strait/perf/internal/payload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// GRPCUnary makes one unary call with grpc-go through the gateway at addr
// and checks grpc-status and the message.
func GRPCUnary(ctx context.Context, addr string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := benchv1.NewBenchClient(conn)
	in := payload.PutRecord()
	out, err := c.PutRecord(ctx, in)
	if err != nil {
		return fmt.Errorf("check: grpc PutRecord via %s: %w", addr, err)
	}
	if !proto.Equal(out, in.Record) {
		return fmt.Errorf("%w: grpc PutRecord via %s", ErrMismatch, addr)
	}
	return nil
}

// GRPCStream makes one server-streaming call with grpc-go through the
// gateway at addr and checks every message and the final grpc-status.
func GRPCStream(ctx context.Context, addr string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := benchv1.NewBenchClient(conn).ListRecords(ctx, payload.ListRecords())
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		m, err := st.Recv()
		if err == io.EOF && i == payload.StreamCount {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check: grpc ListRecords via %s, message %d: %w", addr, i, err)
		}
		if i >= payload.StreamCount || !proto.Equal(m, payload.Record(i)) {
			return fmt.Errorf("%w: grpc ListRecords via %s, message %d", ErrMismatch, addr, i)
		}
	}
}

// GRPCWeb posts one binary gRPC-Web PutRecord over HTTP/1.1 and wants the
// record back followed by a trailer frame with grpc-status 0.
func GRPCWeb(ctx context.Context, c *http.Client, base string) error {
	in := payload.PutRecord()
	url := base + "/bench.v1.Bench/PutRecord"
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(payload.Frame(in)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	req.Header.Set("X-Grpc-Web", "1")
	b, err := do(c, req)
	if err != nil {
		return err
	}
	msgs, trailer, err := ParseWebFrames(b)
	if err != nil {
		return fmt.Errorf("check: %s: %w", url, err)
	}
	if !strings.Contains(strings.ToLower(trailer), "grpc-status: 0") && !strings.Contains(trailer, "grpc-status:0") {
		return fmt.Errorf("check: %s: trailer %q, want grpc-status 0", url, trailer)
	}
	got := &benchv1.Record{}
	if len(msgs) != 1 || proto.Unmarshal(msgs[0], got) != nil || !proto.Equal(got, in.Record) {
		return fmt.Errorf("%w: %s", ErrMismatch, url)
	}
	return nil
}

// ParseWebFrames splits a gRPC-Web body into messages and the trailer text.
func ParseWebFrames(b []byte) (msgs [][]byte, trailer string, err error) {
	for len(b) > 0 {
		if len(b) < 5 {
			return nil, "", fmt.Errorf("short frame header (%d bytes)", len(b))
		}
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if len(b)-5 < n {
			return nil, "", fmt.Errorf("frame of %d bytes, %d left", n, len(b)-5)
		}
		if b[0]&0x80 != 0 {
			trailer += string(b[5 : 5+n])
		} else {
			msgs = append(msgs, b[5:5+n])
		}
		b = b[5+n:]
	}
	return msgs, trailer, nil
}
