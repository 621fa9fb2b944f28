package load

import (
	"os"
	"testing"
)

func seedFixtures(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}

// FuzzParseWrk: any text parses or errors, never panics, and a success has
// non-negative counts.
func FuzzParseWrk(f *testing.F) {
	seedFixtures(f, "wrk_ok.txt", "wrk_non2xx.txt", "wrk_socket.txt")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := ParseWrk(out)
		if err == nil && (r.Requests < 0 || r.QPS < 0) {
			t.Fatalf("negative result %+v", r)
		}
	})
}

func FuzzParseH2load(f *testing.F) {
	seedFixtures(f, "h2load_ok.txt", "h2load_404.txt", "h2load_refused.txt", "h2load_log.tsv")
	f.Fuzz(func(t *testing.T, out string) {
		ParseH2load(out)
		p50, p99, _, err := ParseH2loadLog(out)
		if err == nil && p50 > p99 {
			t.Fatalf("p50 %v > p99 %v", p50, p99)
		}
	})
}

// FuzzParseH2gen: any text parses or errors, never panics; a success has
// non-negative counts and p50 <= p99 whenever the text says so.
func FuzzParseH2gen(f *testing.F) {
	seedFixtures(f, "h2gen_ok.txt", "h2gen_errors.txt")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := ParseH2gen(out)
		if err == nil && (r.Requests < 0 || r.Errors < 0 || r.QPS < 0 || r.P50 < 0 || r.P99 < 0) {
			t.Fatalf("negative result %+v", r)
		}
	})
}
