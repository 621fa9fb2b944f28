package accesslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// lines reads a file's JSON lines and the request ids they carry.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v in %q", path, err, sc.Text())
		}
		ids = append(ids, m.RequestID)
	}
	return ids
}

func entry(i int) *Entry {
	e := sample
	e.RequestID = strconv.Itoa(i)
	return &e
}

// TestLogWritesEveryLine: lines added from many goroutines all reach the
// file, once each, and Close flushes.
func TestLogWritesEveryLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				l.Add(entry(w*each + i))
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ids := lines(t, path)
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(ids) != workers*each || len(seen) != workers*each || l.Written() != workers*each || l.Dropped() != 0 {
		t.Errorf("got %d lines (%d distinct), written %d, dropped %d; want %d", len(ids), len(seen), l.Written(), l.Dropped(), workers*each)
	}
}

// TestLogFlushesWhenIdle: a line reaches the file soon after it is
// added, without Close.
func TestLogFlushesWhenIdle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Add(entry(1))
	deadline := time.Now().Add(5 * time.Second)
	for len(lines(t, path)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the line was not flushed within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stuck is an output that blocks until released.
type stuck struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (s *stuck) Write(p []byte) (int, error) {
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// TestLogDropsWhenFull: with the output stuck, Add does not wait: the
// queue fills, further lines are dropped and counted, and every line is
// either written or counted once the output moves again.
func TestLogDropsWhenFull(t *testing.T) {
	out := &stuck{release: make(chan struct{})}
	l := New(out, Options{Queue: 16})
	const n = 1000
	start := time.Now()
	for i := range n {
		l.Add(entry(i))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("adding %d lines to a stuck log took %v", n, d)
	}
	if l.Dropped() == 0 {
		t.Errorf("nothing dropped with a queue of 16 and a stuck output")
	}
	close(out.release)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got := uint64(bytes.Count(out.buf.Bytes(), []byte("\n")))
	if got != l.Written() || l.Written()+l.Dropped() != n {
		t.Errorf("%d lines out, written %d, dropped %d; want written+dropped = %d", got, l.Written(), l.Dropped(), n)
	}
}

// TestLogCloseStuck: Close gives up on an output that never takes its
// lines, so a shutdown cannot hang on a pipe nobody reads.
func TestLogCloseStuck(t *testing.T) {
	defer func(d time.Duration) { closeWait = d }(closeWait)
	closeWait = 50 * time.Millisecond
	out := &stuck{release: make(chan struct{})}
	defer close(out.release)
	l := New(out, Options{})
	l.Add(entry(1))
	if err := l.Close(); err != ErrStuck {
		t.Errorf("Close: %v; want ErrStuck", err)
	}
}

// TestLogReopen: after a rename (log rotation), Reopen of the same path
// starts a new file; lines before it stay in the renamed one, none is
// lost. Reopen to another path switches files; "" discards.
func TestLogReopen(t *testing.T) {
	dir := t.TempDir()
	path, rotated, other := filepath.Join(dir, "a.log"), filepath.Join(dir, "a.log.1"), filepath.Join(dir, "b.log")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		l.Add(entry(i))
	}
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(path); err != nil {
		t.Fatal(err)
	}
	for i := 100; i < 150; i++ {
		l.Add(entry(i))
	}
	if err := l.Reopen(filepath.Join(dir, "missing", "x.log")); err == nil {
		t.Error("Reopen of a path in a missing directory: no error")
	}
	if err := l.Reopen(other); err != nil {
		t.Fatal(err)
	}
	for i := 150; i < 160; i++ {
		l.Add(entry(i))
	}
	if err := l.Reopen(""); err != nil {
		t.Fatal(err)
	}
	l.Add(entry(160))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	a1, a, b := lines(t, rotated), lines(t, path), lines(t, other)
	if len(a1)+len(a) != 150 || len(b) != 10 || len(a1) < 1 {
		t.Errorf("rotated %d, new %d, other %d lines; want 150 in the first two (at least the first before the rename), 10", len(a1), len(a), len(b))
	}
	if l.Written() != 161 || l.Dropped() != 0 {
		t.Errorf("written %d, dropped %d; want 161, 0", l.Written(), l.Dropped())
	}
	if err := l.Reopen(path); err != ErrClosed {
		t.Errorf("Reopen after Close: %v; want ErrClosed", err)
	}
	l.Add(entry(0))
	if l.Dropped() != 1 {
		t.Errorf("Add after Close: dropped %d; want 1", l.Dropped())
	}
}

// TestAddZeroAlloc: once warm, queuing a line allocates nothing.
func TestAddZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	l := New(discard{}, Options{})
	defer l.Close()
	e := entry(1)
	for range 10000 {
		l.Add(e)
	}
	if n := testing.AllocsPerRun(10000, func() { l.Add(e) }); n != 0 {
		t.Errorf("Add: %v allocs; want 0", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkAdd is the cost the event loop pays per line.
func BenchmarkAdd(b *testing.B) {
	l := New(discard{}, Options{})
	defer l.Close()
	e := entry(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Add(e)
		}
	})
}

// raceEnabled is set by race_test.go.
var raceEnabled bool
