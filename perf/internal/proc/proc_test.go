package proc

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		file string
		want time.Duration
	}{
		{"stat_self.txt", 0},
		{"stat_paren.txt", (1234 + 567) * ClockTick},
	}
	for _, tt := range tests {
		b, err := os.ReadFile("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ParseStat(b); err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.file, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "12 (x) S 1 2", "12 (x) S 1 2 3 4 5 6 7 8 9 10 u s 0", "12 (x) S 1 2 3 4 5 6 7 8 9 10 -5 3 0"} {
		if _, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("%q: got nil error", bad)
		}
	}
}

func TestParseStatusKB(t *testing.T) {
	b, err := os.ReadFile("testdata/status_self.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseStatusKB(b, "VmHWM"); err != nil || got != 1596 {
		t.Errorf("VmHWM: got %d, %v; want 1596", got, err)
	}
	if _, err := ParseStatusKB(b, "VmNope"); err == nil {
		t.Error("missing key: got nil error")
	}
	if _, err := ParseStatusKB([]byte("VmHWM:\t12 MB\n"), "VmHWM"); err == nil {
		t.Error("bad unit: got nil error")
	}
}

func TestReadSelfTree(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn a little CPU so utime moves
	}
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU <= 0 || s.PeakKB <= 0 {
		t.Errorf("got %+v; want positive CPU and peak", s)
	}
}
