package ratelimit

import (
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// clock is a test's time: it moves only when told.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Duration      { return time.Duration(c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestLocal(t testing.TB, r Rate, maxKeys int) (*Local, *clock) {
	t.Helper()
	c := new(clock)
	l, err := NewLocal(r, Options{MaxKeys: maxKeys, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

func allowed(l *Local, key string) bool {
	d, _ := l.Take(key)
	return d.Allowed
}

// TestLocalRefill: a key's burst passes, the next request is denied with
// the wait until a token is back, and after that wait one more passes.
func TestLocalRefill(t *testing.T) {
	l, c := newTestLocal(t, Rate{Rate: 1, Per: time.Second, Burst: 2}, 0)
	for i := 0; i < 2; i++ {
		if !allowed(l, "a") {
			t.Fatalf("request %d of the burst denied", i)
		}
	}
	d, now := l.Take("a")
	if d.Allowed || !now || d.RetryAfter != time.Second || d.Reset != 2*time.Second {
		t.Fatalf("over the burst: got %+v (now %v); want denied, retry after 1s, reset 2s", d, now)
	}
	c.advance(999 * time.Millisecond)
	if allowed(l, "a") {
		t.Fatal("allowed 1ms before the token is back")
	}
	c.advance(time.Millisecond)
	if !allowed(l, "a") || allowed(l, "a") {
		t.Fatal("want exactly one more request after one refill")
	}
}

// TestLocalKeys: keys do not share buckets; requests with no key share
// one.
func TestLocalKeys(t *testing.T) {
	l, _ := newTestLocal(t, Rate{Rate: 1, Per: time.Hour}, 0)
	for i := 0; i < 100; i++ {
		if !allowed(l, "tenant-"+strconv.Itoa(i)) {
			t.Fatalf("tenant-%d denied on its first request", i)
		}
	}
	if allowed(l, "tenant-7") {
		t.Fatal("tenant-7 allowed twice")
	}
	if !allowed(l, "") || allowed(l, "") {
		t.Fatal("the keyless bucket: want one request, then denial")
	}
	if got := l.Keys(); got != 100 {
		t.Fatalf("%d keys kept; want 100 (the keyless bucket is not one)", got)
	}
}

// TestLocalExpiry: full buckets are forgotten once each shard sees a new
// key a second after its last sweep; keys still mid-refill are kept.
func TestLocalExpiry(t *testing.T) {
	l, c := newTestLocal(t, Rate{Rate: 1, Per: 10 * time.Second}, 0)
	for i := 0; i < 1000; i++ {
		allowed(l, "old-"+strconv.Itoa(i))
	}
	c.advance(5 * time.Second) // half refilled: nothing may go yet
	mid := sweepAll(l, "mid")
	if got := l.Keys(); got != int64(1000+mid) {
		t.Fatalf("%d keys kept; want the 1000 still refilling", got)
	}
	c.advance(6 * time.Second) // full now
	late := sweepAll(l, "late")
	if got := l.Keys(); got != int64(mid+late) {
		t.Fatalf("%d keys kept; want only the %d newer ones", got, mid+late)
	}
	if !allowed(l, "old-1") {
		t.Fatal("a forgotten key must come back with a full bucket")
	}
}

// sweepAll adds keys named prefix-N until every shard got one, so each
// sweeps; it returns how many it added.
func sweepAll(l *Local, prefix string) int {
	var hit [shardCount]bool
	left := shardCount
	n := 0
	for i := 0; left > 0 && i < 100_000; i++ {
		k := prefix + "-" + strconv.Itoa(i)
		s := maphash.String(l.seed, k) & (shardCount - 1)
		if hit[s] {
			continue
		}
		hit[s] = true
		left--
		allowed(l, k)
		n++
	}
	return n
}

// TestLocalMaxKeys: at the cap, new keys share the overflow bucket while
// kept keys keep theirs; expiry makes room again.
func TestLocalMaxKeys(t *testing.T) {
	l, c := newTestLocal(t, Rate{Rate: 1, Per: time.Second}, 10)
	for i := 0; i < 10; i++ {
		allowed(l, "k"+strconv.Itoa(i))
	}
	if !allowed(l, "new-1") {
		t.Fatal("the first new key past the cap: want the overflow bucket's token")
	}
	if allowed(l, "new-2") {
		t.Fatal("a second new key past the cap: want the overflow bucket, spent")
	}
	if got := l.Keys(); got != 10 {
		t.Fatalf("%d keys kept; want the cap, 10", got)
	}
	c.advance(2 * time.Second)
	if !allowed(l, "k3") || allowed(l, "k3") {
		t.Fatal("a kept key keeps its own bucket at the cap")
	}
	sweepAll(l, "after")
	if got := l.Keys(); got > 10 {
		t.Fatalf("%d keys kept; want at most 10", got)
	}
}

// TestLocalCompact: a shard that shrank to a quarter is rebuilt small.
func TestLocalCompact(t *testing.T) {
	l, c := newTestLocal(t, Rate{Rate: 1, Per: time.Second}, 0)
	for i := 0; i < 8*compactMin*shardCount; i++ { // every shard past compactMin
		allowed(l, strconv.Itoa(i))
	}
	c.advance(2 * time.Second)
	sweepAll(l, "x")
	for i := range l.shards {
		if sh := &l.shards[i]; len(sh.tat) > compactMin || len(sh.free) > 0 {
			t.Fatalf("shard %d: %d slots, %d free after everything expired; want it rebuilt", i, len(sh.tat), len(sh.free))
		}
	}
}

// TestLocalKeepsNoView: a key passed as a view of a buffer the caller
// then reuses must not change the bucket kept for it, however often it
// is looked up with such views.
func TestLocalKeepsNoView(t *testing.T) {
	l, _ := newTestLocal(t, Rate{Rate: 1, Per: time.Hour, Burst: 2}, 0)
	buf := []byte("tenant-a")
	view := unsafe.String(&buf[0], len(buf))
	allowed(l, view) // added
	allowed(l, view) // found: the last token
	copy(buf, "tenant-b")
	if allowed(l, "tenant-a") {
		t.Fatal("tenant-a's bucket lost: the map kept the caller's buffer")
	}
	if !allowed(l, "tenant-b") {
		t.Fatal("tenant-b found a bucket it never had")
	}
}

// TestLocalConcurrent: however many goroutines race on one bucket, keyed
// or shared, exactly its capacity passes while time stands still.
func TestLocalConcurrent(t *testing.T) {
	for _, key := range []string{"k", ""} {
		l, _ := newTestLocal(t, Rate{Rate: 100, Per: time.Second, Burst: 500}, 0)
		var passed atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					if allowed(l, key) {
						passed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if n := passed.Load(); n != 500 {
			t.Errorf("key %q: %d passed; want 500", key, n)
		}
	}
}

// TestLocalZeroAlloc pins the hot path: a kept key costs no allocation.
func TestLocalZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l, _ := newTestLocal(t, Rate{Rate: 1 << 20, Per: time.Second}, 0)
	buf := []byte("tenant-42")
	allowed(l, string(buf))
	if n := testing.AllocsPerRun(1000, func() { l.Take(unsafe.String(&buf[0], len(buf))) }); n != 0 {
		t.Fatalf("Take of a kept key: %v allocations; want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { l.Take("") }); n != 0 {
		t.Fatalf("Take of the keyless bucket: %v allocations; want 0", n)
	}
}
