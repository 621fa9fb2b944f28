package jwtauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of FetchOptions.
const (
	DefaultRefresh    = 5 * time.Minute
	DefaultMinRefetch = 5 * time.Second
	DefaultTimeout    = 5 * time.Second
	// MaxJWKSBytes bounds a JWKS file or response.
	MaxJWKSBytes = 1 << 20
	// maxWaiters bounds the requests waiting for one fetch; more are
	// answered at once.
	maxWaiters = 1024
)

// gens numbers key sets, so that a token verified with one set is
// verified again once another replaces it.
var gens atomic.Uint64

// Keys is a source of public keys: a JWKS given whole (a file's
// contents), or a JWKS URL fetched by a goroutine of its own. Rules
// and filters share one, across reloads too: Retain it for each holder
// and Release it when done; the fetching stops with the last holder.
type Keys struct {
	id  string
	set atomic.Pointer[keySet] // nil until the first fetch succeeds

	// A URL's, nil for a static set.
	fetch *fetcher
	refs  atomic.Int32
}

// StaticKeys is a key source that never changes: a JWKS document. id
// names it for sharing (the file name and a digest of data, say).
func StaticKeys(id string, data []byte) (*Keys, error) {
	ks, err := parseJWKS(data)
	if err != nil {
		return nil, err
	}
	ks.gen = gens.Add(1)
	k := &Keys{id: id}
	k.set.Store(ks)
	k.refs.Store(1)
	return k, nil
}

// FetchOptions tune a fetched key source (zero: the default).
type FetchOptions struct {
	Refresh    time.Duration // between fetches
	MinRefetch time.Duration // at least this between fetches a token's unknown kid asks for
	Timeout    time.Duration // of one fetch
	Client     *http.Client  // nil: a client of its own
	Log        *slog.Logger
}

// FetchKeys starts fetching the JWKS at url in the background: at once,
// every Refresh, and sooner when a token names an unknown key (at most
// once per MinRefetch). A failed fetch keeps the last good set and
// retries with a backoff. It never blocks its caller.
func FetchKeys(id, url string, o FetchOptions) *Keys {
	o.defaults()
	k := &Keys{id: id}
	k.refs.Store(1)
	ctx, cancel := context.WithCancel(context.Background())
	k.fetch = &fetcher{keys: k, url: url, o: o, kick: make(chan struct{}, 1),
		stop: cancel, fetching: true, last: time.Now()}
	go k.fetch.run(ctx)
	return k
}

func (o *FetchOptions) defaults() {
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.MinRefetch <= 0 {
		o.MinRefetch = DefaultMinRefetch
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// ID is the name the source was made with.
func (k *Keys) ID() string { return k.id }

// Loaded reports whether a key set is in hand.
func (k *Keys) Loaded() bool { return k.set.Load() != nil }

// Retain adds a holder.
func (k *Keys) Retain() { k.refs.Add(1) }

// Release drops a holder; the last one stops the fetching.
func (k *Keys) Release() {
	if k.refs.Add(-1) == 0 && k.fetch != nil {
		k.fetch.stop()
	}
}

// await runs fn once the fetch in flight ends, asking for one first
// when kick is set and MinRefetch allows. It reports false when no fetch
// will end for fn (a static set, too soon, too many waiting): the
// caller answers on its own.
func (k *Keys) await(fn func(), kick bool) bool {
	if k.fetch == nil {
		return false
	}
	return k.fetch.await(fn, kick)
}

// fetcher is the goroutine side of a fetched Keys.
type fetcher struct {
	keys *Keys
	url  string
	o    FetchOptions
	kick chan struct{}
	stop context.CancelFunc // ends run and the fetch in flight

	mu       sync.Mutex
	fetching bool      // a fetch is under way or asked for
	last     time.Time // the last fetch's start
	waiters  []func()  // run when it ends
	digest   []byte    // of the set in force, to keep gen across equal sets
}

func (f *fetcher) await(fn func(), kick bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.fetching {
		if !kick || time.Since(f.last) < f.o.MinRefetch {
			return false
		}
		f.fetching, f.last = true, time.Now()
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
	if len(f.waiters) >= maxWaiters {
		return false
	}
	f.waiters = append(f.waiters, fn)
	return true
}

// run fetches until stopped: every Refresh after a success, after a
// backoff (1s doubling, at most Refresh) after a failure, and when kicked.
func (f *fetcher) run(ctx context.Context) {
	var backoff time.Duration
	for {
		wait := f.o.Refresh
		if err := f.once(ctx); err != nil {
			backoff = min(max(2*backoff, time.Second), f.o.Refresh)
			wait = backoff
			if ctx.Err() == nil {
				f.o.Log.Warn("jwks fetch failed; keeping the last key set", "url", f.url, "err", err, "retry_in", wait)
			}
		} else {
			backoff = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.finish() // nobody waits on a stopped source
			return
		case <-t.C:
		case <-f.kick:
			t.Stop()
		}
	}
}

// once fetches the set, swaps it in when it parsed, and releases the
// waiters either way.
func (f *fetcher) once(ctx context.Context) error {
	f.mu.Lock()
	f.fetching, f.last = true, time.Now()
	f.mu.Unlock()
	defer f.finish()
	data, err := f.get(ctx)
	if err != nil {
		return err
	}
	ks, err := parseJWKS(data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if old := f.keys.set.Load(); old != nil && bytes.Equal(f.digest, digestOf(data)) {
		return nil // the same keys: tokens verified with them stay cached
	}
	ks.gen = gens.Add(1)
	f.digest = digestOf(data)
	f.keys.set.Store(ks)
	return nil
}

// finish ends a fetch and runs its waiters, outside the lock.
func (f *fetcher) finish() {
	f.mu.Lock()
	ws := f.waiters
	f.waiters, f.fetching = nil, false
	f.mu.Unlock()
	for _, fn := range ws {
		fn()
	}
}

// get fetches the document: status 200 and at most MaxJWKSBytes.
func (f *fetcher) get(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := f.o.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwtauth: GET %s: %s", f.url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxJWKSBytes {
		return nil, fmt.Errorf("jwtauth: GET %s: larger than %d bytes", f.url, MaxJWKSBytes)
	}
	return data, nil
}

func digestOf(data []byte) []byte {
	d := sha256.Sum256(data)
	return d[:]
}
