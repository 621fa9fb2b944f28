package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var sample = Entry{
	Time: time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, time.UTC), Duration: 1234567 * time.Nanosecond,
	Protocol: "rest", Method: "GET", Path: "/v1/shelves/1", Service: "bookstore.v1.Bookstore", RPC: "GetShelf",
	Status: 200, GRPC: 0, BytesIn: 0, BytesOut: 42, Upstream: "127.0.0.1:50051", Retries: 1,
	RequestID: "6f1c2d", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
}

func TestAppendJSON(t *testing.T) {
	got := string(AppendJSON(nil, &sample))
	want := `{"time":"2026-03-04T05:06:07.891Z","protocol":"rest","method":"GET","path":"/v1/shelves/1",` +
		`"route":"bookstore.v1.Bookstore/GetShelf","status":200,"grpc_status":0,"duration_ms":1.235,` +
		`"bytes_in":0,"bytes_out":42,"upstream":"127.0.0.1:50051","retries":1,"request_id":"6f1c2d",` +
		`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	preflight := Entry{Time: sample.Time, Protocol: "rest", Method: "OPTIONS", Path: "/v1/x", Status: 204, GRPC: NoGRPCStatus}
	got = string(AppendJSON(nil, &preflight))
	for _, part := range []string{`"route":""`, `"grpc_status":null`, `"upstream":""`} {
		if !strings.Contains(got, part) {
			t.Errorf("preflight: %s lacks %s", got, part)
		}
	}
	if strings.Contains(got, "trace_id") {
		t.Errorf("preflight: %s has a trace_id though it has none", got)
	}
}

func TestAppendJSONEscapes(t *testing.T) {
	for _, path := range []string{
		`/v1/"quoted"/back\slash`, "/new\nline/\r/\t/\x00/\x1f/\x7f", "/bad-utf8/\xff\xfe/\xc3", "/sep/\u2028\u2029",
		"/ünïcödé/日本/😀", `/</>/&`, "",
	} {
		e := sample
		e.Path, e.RequestID = path, path
		var got map[string]any
		line := AppendJSON(nil, &e)
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%q: %v in %s", path, err, line)
		}
		if want := viaEncodingJSON(path); got["path"] != want || got["request_id"] != want {
			t.Errorf("%q: path %q; want %q", path, got["path"], want)
		}
		if bytes.Count(line, []byte("\n")) != 1 {
			t.Errorf("%q: the line has a raw newline inside: %q", path, line)
		}
	}
}

// viaEncodingJSON is what s becomes through encoding/json, the reference.
func viaEncodingJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

// FuzzAppendJSON: every line is one valid JSON object whose strings
// read back as encoding/json would have written them.
func FuzzAppendJSON(f *testing.F) {
	f.Add("GET", "/v1/shelves/1", "abc", "127.0.0.1:1", "", 200, 0, int64(5))
	f.Add("P\"OST", "/a\\b\n\xff", "\x00\u2028", "", "t", 499, -1, int64(-1))
	f.Fuzz(func(t *testing.T, method, path, reqID, upstream, trace string, status, code int, n int64) {
		e := Entry{Time: time.Unix(0, n), Duration: time.Duration(n), Protocol: "grpc-web", Method: method, Path: path,
			Service: method, RPC: path, Status: status, GRPC: max(code, NoGRPCStatus), BytesIn: n, BytesOut: n,
			Upstream: upstream, Retries: code, RequestID: reqID, TraceID: trace}
		line := AppendJSON(nil, &e)
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("not one line: %q", line)
		}
		var got struct {
			Method, Path, Upstream, Route string
			RequestID                     string   `json:"request_id"`
			TraceID                       *string  `json:"trace_id"`
			Status                        int      `json:"status"`
			GRPC                          *int     `json:"grpc_status"`
			Duration                      *float64 `json:"duration_ms"`
		}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		want := map[string]string{"method": method, "path": path, "upstream": upstream, "request_id": reqID}
		have := map[string]string{"method": got.Method, "path": got.Path, "upstream": got.Upstream, "request_id": got.RequestID}
		for k, v := range want {
			if have[k] != viaEncodingJSON(v) {
				t.Errorf("%s: got %q; want %q", k, have[k], viaEncodingJSON(v))
			}
		}
		if method != "" && got.Route != viaEncodingJSON(method+"/"+path) {
			t.Errorf("route: got %q", got.Route)
		}
		if (trace == "") != (got.TraceID == nil) || (code < 0) != (got.GRPC == nil) || got.Status != status || got.Duration == nil {
			t.Errorf("line %q", line)
		}
	})
}

// BenchmarkLine compares the hand-written encoder with log/slog's JSON
// handler writing the same fields (slog's own time, level and message
// keys removed).
func BenchmarkLine(b *testing.B) {
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = AppendJSON(buf[:0], &sample)
		}
	})
	b.Run("slog", func(b *testing.B) {
		b.ReportAllocs()
		h := slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
			if len(g) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		}})
		lg := slog.New(h)
		ctx := context.Background()
		e := &sample
		for b.Loop() {
			lg.LogAttrs(ctx, slog.LevelInfo, "",
				slog.String("time", e.Time.UTC().Format(timeLayout)), slog.String("protocol", e.Protocol),
				slog.String("method", e.Method), slog.String("path", e.Path),
				slog.String("route", e.Service+"/"+e.RPC), slog.Int("status", e.Status), slog.Int("grpc_status", e.GRPC),
				slog.Float64("duration_ms", float64(e.Duration)/1e6), slog.Int64("bytes_in", e.BytesIn),
				slog.Int64("bytes_out", e.BytesOut), slog.String("upstream", e.Upstream), slog.Int("retries", e.Retries),
				slog.String("request_id", e.RequestID), slog.String("trace_id", e.TraceID))
		}
	})
}
