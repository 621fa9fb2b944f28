package h2gen

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"github.com/straitgw/strait/perf/internal/load"
	"github.com/straitgw/strait/perf/internal/payload"
	"github.com/straitgw/strait/perf/internal/reqhdr"
	"github.com/straitgw/strait/perf/internal/upstream"
	"golang.org/x/net/http2/hpack"
)

var grpcHeader = []hpack.HeaderField{{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"}}

func mustVerifier(t *testing.T, mode Mode, want ...[]byte) func([]byte) error {
	t.Helper()
	v, err := Verifier(mode, (&benchv1.Record{}).ProtoReflect().Type(), want)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestGRPCUpstream drives the real grpc-go upstream, which checks every
// request's varied headers (reqhdr) and echoes the record.
func TestGRPCUpstream(t *testing.T) {
	gs, addr, err := upstream.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Stop()
	put := payload.PutRecord()
	r, err := Run(context.Background(), Config{Addr: addr.String(), Path: "/bench.v1.Bench/PutRecord", Header: grpcHeader,
		Body: payload.Frame(put), Mode: ModeGRPC, Vary: true, Seed: 1, Conns: 4, Duration: 500 * time.Millisecond,
		Sample: 3, Verify: mustVerifier(t, ModeGRPC, payload.Wire(put.Record))})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK < 20 || r.Failed != 0 || r.Verified == 0 || r.BadBodies != 0 || r.P50 <= 0 || r.P99 < r.P50 || r.CPU <= 0 {
		t.Fatalf("got %+v", r)
	}
	// a wrong expectation is a failure, by kind
	r, _ = Run(context.Background(), Config{Addr: addr.String(), Path: "/bench.v1.Bench/PutRecord", Header: grpcHeader,
		Body: payload.Frame(put), Mode: ModeGRPC, Conns: 1, Count: 10, Duration: 5 * time.Second,
		Sample: 1, Verify: mustVerifier(t, ModeGRPC, payload.Wire(payload.Record(7)))})
	if r.OK != 0 || r.Failed != 10 || r.Errors["wrong body"] != 10 || r.BadBodies != 10 {
		t.Fatalf("wrong body: got %+v", r)
	}
}

// h2cServer serves h on a loopback h2c port.
func h2cServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: &p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestFailuresCounted: a server that mixes statuses, grpc-status codes and
// resets; only the right answers count, the rest are errors by kind.
func TestFailuresCounted(t *testing.T) {
	var n atomic.Int64
	addr := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		if err := reqhdr.Check(r.Header.Get(reqhdr.IDName), r.Header.Get(reqhdr.AuthName)); err != nil {
			w.WriteHeader(400)
			return
		}
		switch n.Add(1) % 4 {
		case 0:
			w.WriteHeader(503)
			w.Write([]byte("busy"))
		case 1:
			w.Header().Set("Trailer:grpc-status", "")
			w.Header().Set("Content-Type", "application/grpc")
			w.Write(payload.Frame(payload.Record(1)))
			w.Header().Set("Trailer:grpc-status", "0")
		case 2:
			w.Header().Set("Grpc-Status", "3")
			w.Header().Set("Grpc-Message", "mixed up")
		case 3:
			panic(http.ErrAbortHandler) // RST_STREAM
		}
	})
	r, err := Run(context.Background(), Config{Addr: addr, Path: "/x", Header: grpcHeader, Body: []byte("hi"),
		Mode: ModeGRPC, Vary: true, Conns: 2, Count: 40, Duration: 10 * time.Second,
		Sample: 1, Verify: mustVerifier(t, ModeGRPC, payload.Wire(payload.Record(1)))})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 10 || r.Failed != 30 || r.Errors["status 503"] != 10 || r.Errors["grpc-status 3"] != 10 ||
		r.Errors["rst_stream INTERNAL_ERROR"] != 10 || r.Samples["grpc-status 3"] != "mixed up" || r.Samples["status 503"] != "busy" {
		t.Fatalf("got %+v", r)
	}
}

// TestWebAndREST: gRPC-Web wants the trailer frame; REST only :status 200
// and, on a sample, the JSON message.
func TestWebAndREST(t *testing.T) {
	rec := payload.Record(2)
	web := func(status string) []byte {
		tr := "grpc-status: " + status + "\r\n"
		b := append(payload.Frame(rec), 0x80, 0, 0, 0, 0)
		binary.BigEndian.PutUint32(b[len(b)-4:], uint32(len(tr)))
		return append(b, tr...)
	}
	addr := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/web-ok":
			w.Write(web("0"))
		case "/web-bad":
			w.Write(web("13"))
		case "/rest":
			w.Write(payload.JSON(rec))
		default:
			http.NotFound(w, r)
		}
	})
	for _, tt := range []struct {
		path   string
		mode   Mode
		ok     int64
		failed string
	}{{"/web-ok", ModeGRPCWeb, 5, ""}, {"/web-bad", ModeGRPCWeb, 0, "grpc-status 13"}, {"/rest", ModeREST, 5, ""}, {"/nope", ModeREST, 0, "status 404"}} {
		r, err := Run(context.Background(), Config{Addr: addr, Path: tt.path, Mode: tt.mode, Vary: true, Conns: 1, Count: 5,
			Duration: 10 * time.Second, Sample: 1, Verify: mustVerifier(t, tt.mode, payload.Wire(rec))})
		if err != nil || r.OK != tt.ok || (tt.failed != "" && r.Errors[tt.failed] != 5) || r.Verified != tt.ok {
			t.Errorf("%s: got %+v, %v", tt.path, r, err)
		}
	}
}

// TestDeadServer: nothing listening, or a server that closes every
// connection: errors, and Run returns at the end of the duration.
func TestDeadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closing := ln.Addr().String()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	defer ln.Close()
	for _, addr := range []string{closing, deadAddr} {
		t0 := time.Now()
		r, err := Run(context.Background(), Config{Addr: addr, Path: "/", Mode: ModeREST, Conns: 3, Duration: 300 * time.Millisecond})
		if err != nil || r.OK != 0 || r.Failed == 0 || time.Since(t0) > 2*time.Second {
			t.Errorf("%s: got %+v, %v after %v", addr, r, err, time.Since(t0))
		}
	}
}

// TestHungServer: a server that never answers gives timeouts, and a run
// ending mid-request does not count that request.
func TestHungServer(t *testing.T) {
	addr := h2cServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	r, err := Run(context.Background(), Config{Addr: addr, Path: "/", Mode: ModeREST, Conns: 2, Duration: 700 * time.Millisecond, Timeout: 200 * time.Millisecond})
	if err != nil || r.OK != 0 || r.Errors["timeout"] < 2 || r.Failed != r.Errors["timeout"] {
		t.Errorf("got %+v, %v", r, err)
	}
}

func TestReportParses(t *testing.T) {
	r := &Report{Conns: 2, Elapsed: 2 * time.Second, OK: 1000, Failed: 7, P50: 1500 * time.Microsecond, P99: 9 * time.Millisecond,
		CPU: 10 * time.Millisecond, Errors: map[string]int64{"status 503": 5, "grpc-status 3": 2},
		Samples: map[string]string{"grpc-status 3": "bad\theaders\nhere"}}
	var b strings.Builder
	r.WriteText(&b)
	got, err := load.ParseH2gen(b.String())
	want := load.Result{Requests: 1000, Errors: 7, QPS: 500, P50: 1500 * time.Microsecond, P99: 9 * time.Millisecond,
		Why: "status 503 ×5; grpc-status 3 ×2 (bad headers here)"}
	if err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v\n%s", got, err, want, b.String())
	}
}
