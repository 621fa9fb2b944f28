package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logLine is an access log line as a consumer reads it.
type logLine struct {
	Time       string   `json:"time"`
	Protocol   string   `json:"protocol"`
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	Route      string   `json:"route"`
	Status     int      `json:"status"`
	GRPCStatus *int     `json:"grpc_status"`
	DurationMS *float64 `json:"duration_ms"`
	BytesIn    *int64   `json:"bytes_in"`
	BytesOut   *int64   `json:"bytes_out"`
	Upstream   *string  `json:"upstream"`
	Retries    *int     `json:"retries"`
	RequestID  string   `json:"request_id"`
}

// readLog parses every line of an access log file.
func readLog(t *testing.T, path string) []logLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l logLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// requestsCounted is the sum of strait_requests_total.
func requestsCounted(t *testing.T, e *Engine) (n int) {
	for _, m := range scrapeMetrics(t, e)["strait_requests_total"].GetMetric() {
		n += int(m.GetCounter().GetValue())
	}
	return n
}

// viaJSON is s as encoding/json writes and reads it back (invalid UTF-8
// becomes U+FFFD).
func viaJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

// TestAccessLog: after sendTraffic's varied requests, the log file has
// one line per request, and each line's fields are those of its request
// (found by request id, sent or generated): time, protocol, method, path
// (escaped as needed, no query), route, status, grpc_status (null for a
// preflight), duration, bytes, upstream (empty when none was called),
// retries.
func TestAccessLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	e, up := startTelemetryGateway(t, func(c *Config) { c.AccessLog = AccessLogConfig{Path: path, Format: "json"} })
	begin := time.Now()
	traffic := sendTraffic(t, e)
	waitUntil(t, "every request observed", func() bool { return requestsCounted(t, e) >= len(traffic) })
	if err := e.Close(); err != nil { // flushes the log
		t.Fatal(err)
	}
	lines := readLog(t, path)
	if len(lines) != len(traffic) {
		t.Fatalf("%d lines for %d requests", len(lines), len(traffic))
	}
	byID := map[string]logLine{}
	for _, l := range lines {
		byID[l.RequestID] = l
	}
	for _, s := range traffic {
		l, ok := byID[viaJSON(s.requestID)]
		if !ok {
			t.Errorf("%s: no line with request id %q", s.what, s.requestID)
			continue
		}
		checkLine(t, s, l, up, begin)
	}
}

func checkLine(t *testing.T, s sent, l logLine, up string, begin time.Time) {
	t.Helper()
	route := ""
	if s.service != "" {
		route = s.service + "/" + s.rpc
	}
	wantUp := ""
	if s.upstream {
		wantUp = up
	}
	var errs []string
	check := func(field string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			errs = append(errs, fmt.Sprintf("%s %v (want %v)", field, got, want))
		}
	}
	check("protocol", l.Protocol, s.protocol)
	check("method", l.Method, s.method)
	check("path", l.Path, viaJSON(s.path))
	check("route", l.Route, route)
	check("status", l.Status, s.status)
	if s.grpcCode < 0 {
		check("grpc_status null", l.GRPCStatus == nil, true)
	} else if l.GRPCStatus == nil || *l.GRPCStatus != s.grpcCode {
		errs = append(errs, fmt.Sprintf("grpc_status %v (want %d)", l.GRPCStatus, s.grpcCode))
	}
	if l.Upstream == nil || l.Retries == nil || l.BytesIn == nil || l.BytesOut == nil || l.DurationMS == nil {
		t.Errorf("%s: fields missing in %+v", s.what, l)
		return
	}
	check("upstream", *l.Upstream, wantUp)
	check("retries", *l.Retries, 0)
	if s.in >= 0 {
		check("bytes_in", *l.BytesIn, s.in)
	}
	if s.out >= 0 {
		check("bytes_out", *l.BytesOut, s.out)
	} else if s.upstream && s.grpcCode == 0 && *l.BytesOut <= 0 {
		errs = append(errs, "bytes_out 0 for an answered call")
	}
	ts, err := time.Parse("2006-01-02T15:04:05.000Z07:00", l.Time)
	if err != nil || ts.Before(begin.Add(-time.Second)) || ts.After(time.Now()) || !strings.HasSuffix(l.Time, "Z") {
		errs = append(errs, fmt.Sprintf("time %q (%v)", l.Time, err))
	}
	if d := *l.DurationMS; d < 0 || d > float64(time.Since(begin).Milliseconds()+1) {
		errs = append(errs, fmt.Sprintf("duration_ms %v", d))
	}
	if len(errs) > 0 {
		t.Errorf("%s: %s", s.what, strings.Join(errs, "; "))
	}
}

// TestAccessLogReload: a reload switches the log to another file without
// losing a line, turns it off and on again; a reopen after a rename
// (log rotation) starts a new file at the path; a path that cannot be
// opened is rejected and the running log stays.
func TestAccessLogReload(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	e, _ := startTelemetryGateway(t, func(c *Config) { c.AccessLog.Path = a })
	base := "http://" + e.Addr().String()
	n := 0
	send := func(count int) {
		for range count {
			n++
			req, _ := http.NewRequest("GET", base+"/v1/shelves/1", nil)
			req.Header.Set("X-Request-Id", fmt.Sprintf("r%d", n))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		waitUntil(t, "the requests observed", func() bool { return requestsCounted(t, e) >= n })
	}
	send(5)
	setLog := func(p string) error {
		return reloadWith(t, e, func(c *Config) { c.AccessLog = AccessLogConfig{Path: p} })
	}
	if err := setLog(b); err != nil {
		t.Fatal(err)
	}
	send(3)
	if err := setLog(filepath.Join(dir, "missing", "c.log")); err == nil {
		t.Error("a reload to a log in a missing directory was accepted")
	}
	send(1) // still b
	if err := setLog(""); err != nil {
		t.Fatal(err)
	}
	send(2) // not logged
	if err := setLog(b); err != nil {
		t.Fatal(err)
	}
	send(1)
	if err := os.Rename(b, b+".1"); err != nil {
		t.Fatal(err)
	}
	if err := e.ReopenLogs(); err != nil {
		t.Fatal(err)
	}
	send(4)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	ids := func(p string) (out []string) {
		for _, l := range readLog(t, p) {
			out = append(out, l.RequestID)
		}
		return out
	}
	got := fmt.Sprint(ids(a), ids(b+".1"), ids(b))
	want := "[r1 r2 r3 r4 r5] [r6 r7 r8 r9 r12] [r13 r14 r15 r16]"
	if got != want {
		t.Errorf("lines by file: %s; want %s", got, want)
	}
}
