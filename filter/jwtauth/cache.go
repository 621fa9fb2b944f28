package jwtauth

import "sync"

// cacheShards spread the lock of the verified-token cache over the event
// loop's workers.
const cacheShards = 16

// DefaultCacheSize is how many verified tokens a filter remembers.
const DefaultCacheSize = 4096

// cache remembers verified tokens by their text, so that a client that
// sends the same token again costs a map lookup instead of a signature
// check. Each shard keeps two generations: lookups promote from the old
// one, and when the new one is full it becomes the old one, so a shard
// holds at most 2×per entries and evicts the least recently used first,
// roughly. An entry is also checked for expiry and key-set changes on
// every hit (verified.fresh).
type cache struct {
	per    int
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu       sync.Mutex
	cur, old map[string]*verified
}

func newCache(size int) *cache {
	c := &cache{per: max(1, size/cacheShards/2)}
	for i := range c.shards {
		c.shards[i].cur = map[string]*verified{}
	}
	return c
}

// shard picks by the token's last byte: part of its signature, so as
// good as a hash.
func (c *cache) shard(tok string) *cacheShard {
	return &c.shards[int(tok[len(tok)-1])%cacheShards]
}

// get returns the entry of tok, or nil. tok may view a request buffer:
// it is only compared, and a hit's key is the cache's own copy.
func (c *cache) get(tok string) *verified {
	s := c.shard(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cur[tok]; ok {
		return v
	}
	v, ok := s.old[tok]
	if ok {
		delete(s.old, tok)
		s.put(v.tok, v, c.per) // the cache's own copy, never the caller's view
	}
	return v
}

// add remembers v under v.tok, which must be owned (a copy of the
// request's bytes: the map keeps it).
func (c *cache) add(v *verified) {
	s := c.shard(v.tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(v.tok, v, c.per)
}

func (s *cacheShard) put(tok string, v *verified, per int) {
	if len(s.cur) >= per {
		s.old, s.cur = s.cur, make(map[string]*verified, per)
	}
	s.cur[tok] = v
}

// drop forgets tok (a stale entry).
func (c *cache) drop(tok string) {
	s := c.shard(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cur, tok)
	delete(s.old, tok)
}
