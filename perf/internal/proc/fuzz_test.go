package proc

import (
	"os"
	"testing"
)

func FuzzParseStat(f *testing.F) {
	for _, n := range []string{"stat_self.txt", "stat_paren.txt", "status_self.txt"} {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := ParseStat(b); err == nil && d < 0 {
			t.Fatalf("negative CPU %v", d)
		}
		ParseStatusKB(b, "VmHWM")
	})
}
