package load

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseWrk(t *testing.T) {
	tests := []struct {
		file string
		want Result
	}{
		{"wrk_ok.txt", Result{Requests: 7082, QPS: 6883.15, P50: 860 * time.Microsecond, P99: 11850 * time.Microsecond}},
		{"wrk_non2xx.txt", Result{Requests: 0, Errors: 8424, QPS: 0, P50: 319 * time.Microsecond, P99: 109430 * time.Microsecond, Why: "8424 non-2xx answers"}},
		{"wrk_socket.txt", Result{Requests: 120000, Errors: 17, QPS: 11950.5, P50: 5 * time.Millisecond, P99: 2 * time.Second, Why: "socket errors: connect 12, read 0, write 0, timeout 5"}},
	}
	for _, tt := range tests {
		got, err := ParseWrk(fixture(t, tt.file))
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.file, got, err, tt.want)
		}
	}
	if _, err := ParseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("refused: got nil error")
	}
}

func TestParseH2load(t *testing.T) {
	tests := []struct {
		file string
		want Result
	}{
		{"h2load_ok.txt", Result{Requests: 10488, QPS: 10488}},
		{"h2load_404.txt", Result{Requests: 0, Errors: 100, QPS: 0}},
		{"h2load_refused.txt", Result{Requests: 0, Errors: 20, QPS: 0}},
	}
	for _, tt := range tests {
		got, err := ParseH2load(fixture(t, tt.file))
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.file, got, err, tt.want)
		}
	}
	if _, err := ParseH2load("starting benchmark...\n"); err == nil {
		t.Error("truncated: got nil error")
	}
}

func TestParseH2loadLog(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 200; i++ { // durations 1..200 µs, two of them 503
		st := "200"
		if i%100 == 0 {
			st = "503"
		}
		b.WriteString("1795468162643066\t" + st + "\t" + strconv.Itoa(i) + "\n")
	}
	p50, p99, bad, err := ParseH2loadLog(b.String())
	if err != nil || p50 != 100*time.Microsecond || p99 != 198*time.Microsecond || bad != 2 {
		t.Errorf("got %v %v %d %v; want 100µs 198µs 2 nil", p50, p99, bad, err)
	}
	p50, p99, _, err = ParseH2loadLog(fixture(t, "h2load_log.tsv"))
	if err != nil || p50 != 396*time.Microsecond || p99 != 442*time.Microsecond {
		t.Errorf("fixture: got %v %v %v", p50, p99, err)
	}
	if _, _, _, err := ParseH2loadLog(""); err == nil {
		t.Error("empty log: got nil error")
	}
	if _, _, _, err := ParseH2loadLog("1\tx\t3\n"); err == nil {
		t.Error("bad status: got nil error")
	}
}

func TestParseDuration(t *testing.T) {
	tests := map[string]time.Duration{"319.00us": 319 * time.Microsecond, "1.20ms": 1200 * time.Microsecond, "2.50s": 2500 * time.Millisecond, "1.00m": time.Minute}
	for in, want := range tests {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseDuration("12parsecs"); err == nil {
		t.Error("bad unit: got nil error")
	}
}

func TestLuaScriptEscapesEveryByte(t *testing.T) {
	got := LuaScript("POST", []byte{0, 'a', 255}, "Content-Type", "application/grpc-web+proto")
	want := "wrk.method = \"POST\"\nwrk.body = \"\\000\\097\\255\"\nwrk.headers[\"Content-Type\"] = \"application/grpc-web+proto\"\n"
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestParseH2gen(t *testing.T) {
	tests := []struct {
		file string
		want Result
	}{
		{"h2gen_ok.txt", Result{Requests: 27368, QPS: 13684, P50: 4159 * time.Microsecond, P99: 11737 * time.Microsecond}},
		{"h2gen_errors.txt", Result{Requests: 9000, Errors: 1200, QPS: 4500, P50: 3 * time.Millisecond, P99: 9 * time.Millisecond,
			Why: "grpc-status 3 ×1000 (reqhdr: authorization does not pair with x-request-id (headers mixed up between requests?)); conn ×200 (EOF)"}},
	}
	for _, tt := range tests {
		got, err := ParseH2gen(fixture(t, tt.file))
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.file, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "h2gen 2\nok 1\nfailed 0\nqps 1\np50_us 1\np99_us 1\n", "h2gen 1\nok 1\nfailed 0\nqps 1\np50_us 1\n",
		"h2gen 1\nok 1\nfailed 0\nqps 1\np50_us 1\np99_us 1\nerror\tx\tconn\t\n"} {
		if _, err := ParseH2gen(bad); err == nil {
			t.Errorf("%q: got nil error", bad)
		}
	}
}
