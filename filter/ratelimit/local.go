package ratelimit

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxKeys is how many keys a Local keeps unless told otherwise:
// each costs about 60 bytes plus the key, so some 8 MB for short keys.
const DefaultMaxKeys = 100_000

const (
	shardCount = 64 // lock stripes; a power of two
	// sweepEvery is how often, at most, a shard is swept of full buckets:
	// only when a new key arrives there, so an idle limiter costs nothing.
	sweepEvery = time.Second
	// compactMin is the slot count from which a shard that shrank to a
	// quarter is rebuilt: Go maps keep their memory after deletes.
	compactMin = 256
)

// Options tune a Local.
type Options struct {
	// MaxKeys bounds the keys kept at once (default DefaultMaxKeys).
	// Past it, requests whose key has no bucket yet share one overflow
	// bucket (of the same rate) until expiry makes room.
	MaxKeys int
	// Clock is a monotonic time since any fixed start (default: the
	// time since NewLocal). Tests inject their own.
	Clock func() time.Duration
}

// Local is a Limiter whose token buckets live in this process. A bucket
// is one int64 (bucket.go), kept in one of 64 lock-striped shards by key.
// Requests with no key (all of them for KeyGlobal) share one bucket, and
// so do new keys while MaxKeys are kept; those two are single words
// updated by compare-and-swap. No goroutine: a shard forgets its full
// buckets when a new key arrives and its last sweep is a second old.
type Local struct {
	b        bucket
	clock    func() time.Duration
	seed     maphash.Seed
	maxKeys  int64
	live     atomic.Int64 // keys kept in the shards
	absent   atomic.Int64 // the tat of requests with no key
	overflow atomic.Int64 // the tat new keys share at MaxKeys
	shards   [shardCount]shard
}

// shard is one lock stripe: keys index slots of tat, so the map never
// holds a pointer per key and is written only when a key is added.
type shard struct {
	mu    sync.Mutex
	index map[string]int32
	tat   []int64
	free  []int32 // slots of forgotten keys
	swept int64   // when the shard was last swept
	_     [64]byte
}

// NewLocal returns a Local enforcing r.
func NewLocal(r Rate, o Options) (*Local, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Clock == nil {
		start := time.Now()
		o.Clock = func() time.Duration { return time.Since(start) }
	}
	l := &Local{b: newBucket(r), clock: o.Clock, seed: maphash.MakeSeed(), maxKeys: int64(o.MaxKeys)}
	for i := range l.shards {
		l.shards[i].index = map[string]int32{}
	}
	return l, nil
}

// Take spends one request of key's bucket; it always decides at once.
// For a key already kept it allocates nothing.
func (l *Local) Take(key string) (Decision, bool) {
	now := int64(l.clock())
	if key == "" {
		return l.takeShared(&l.absent, now), true
	}
	sh := &l.shards[maphash.String(l.seed, key)&(shardCount-1)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[key]; ok {
		var d Decision
		sh.tat[i], d = l.b.take(sh.tat[i], now)
		return d, true
	}
	if !l.admit(sh, now) {
		return l.takeShared(&l.overflow, now), true
	}
	tat, d := l.b.take(0, now) // a new key's bucket is full: allowed
	sh.add(key, tat)
	return d, true
}

// Ask is Take answered on another goroutine; Local never needs it.
func (l *Local) Ask(key string, done func(Decision)) {
	d, _ := l.Take(key)
	go done(d)
}

// Keys is how many keys are kept now.
func (l *Local) Keys() int64 { return l.live.Load() }

// takeShared decides for a bucket many requests share.
func (l *Local) takeShared(b *atomic.Int64, now int64) Decision {
	for {
		tat := b.Load()
		next, d := l.b.take(tat, now)
		if !d.Allowed || b.CompareAndSwap(tat, next) {
			return d
		}
	}
}

// admit makes room for a new key in sh: it sweeps sh when due, then
// counts the key if fewer than MaxKeys are kept. Under sh.mu.
func (l *Local) admit(sh *shard, now int64) bool {
	if now-sh.swept >= int64(sweepEvery) {
		sh.swept = now
		l.live.Add(-int64(sh.sweep(now)))
	}
	for {
		n := l.live.Load()
		if n >= l.maxKeys {
			return false
		}
		if l.live.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// add keeps key with bucket tat. key may be a view of the caller's
// buffer (a header value in the front end's reader, reused once the
// request is parsed): a map keeps its keys, so it gets a copy. Existing
// keys are only looked up with views, never assigned (an assignment
// would store the view in place of the copy).
func (sh *shard) add(key string, tat int64) {
	var i int32
	if n := len(sh.free); n > 0 {
		i, sh.free = sh.free[n-1], sh.free[:n-1]
		sh.tat[i] = tat
	} else {
		i = int32(len(sh.tat))
		sh.tat = append(sh.tat, tat)
	}
	sh.index[strings.Clone(key)] = i
}

// sweep forgets the full buckets (tat <= now) and reports how many.
func (sh *shard) sweep(now int64) int {
	n := 0
	for k, i := range sh.index {
		if sh.tat[i] <= now {
			delete(sh.index, k)
			sh.free = append(sh.free, i)
			n++
		}
	}
	if len(sh.tat) >= compactMin && len(sh.index) <= len(sh.tat)/4 {
		sh.compact()
	}
	return n
}

// compact rebuilds the shard at its live size, giving memory back.
func (sh *shard) compact() {
	index := make(map[string]int32, len(sh.index))
	tat := make([]int64, 0, len(sh.index))
	for k, i := range sh.index {
		index[k] = int32(len(tat))
		tat = append(tat, sh.tat[i])
	}
	sh.index, sh.tat, sh.free = index, tat, nil
}
