package h2

import (
	"bytes"
	"hash/maphash"
	"runtime/debug"
	"strings"

	"golang.org/x/net/http2/hpack"
)

// encoder is a connection's HPACK encoder with the ownership rule its
// callers need. Fields handed to OpenStream and WriteHeaders may be views
// into buffers the caller reuses as soon as the call returns (an HTTP/1.1
// head in netpoll's reader). x/net's Encoder keeps every field it indexes,
// in its dynamic table and as map keys, until the entry is evicted, so a
// kept view would change under it: wrong headers on later requests, and a
// corrupted table that panics. So every string the Encoder may keep is
// owned here first, and only fields worth keeping are offered to it.
//
// Worth keeping means seen before: a value is sent as a literal the first
// time (marked never-indexed, so the Encoder keeps nothing and nothing is
// copied), and indexed from its second sighting on. Values unique to one
// request (request ids, tokens, trace ids) then never churn the 4 KiB
// table nor cost a copy, while repeated ones (user agents, tenants,
// content types) shrink to an index byte after the second request.
type encoder struct {
	enc  *hpack.Encoder
	buf  bytes.Buffer
	seed maphash.Seed
	// seen holds hashes of recently sent values, direct-mapped: a value
	// whose hash is in its slot was sent before.
	seen *[256]uint64
	// recent caches owned copies of indexed strings, so that a repeated
	// value is copied once, not once per request. Direct-mapped too:
	// bounded memory, no map, no lock.
	recent *[128]string
}

// maxTableSize is the largest dynamic table x/net's Encoder ever uses: it
// starts at 4096 and SetMaxDynamicTableSizeLimit only lowers it. A field
// larger than the table is never indexed, hence never kept.
const maxTableSize = 4096

// maxCached bounds the strings the recent cache holds.
const maxCached = 256

// encoderSeed is shared by every connection: an encoder's choices depend
// on what it was given, never on which connection it serves.
var encoderSeed = maphash.MakeSeed()

func newEncoder() *encoder {
	e := &encoder{seed: encoderSeed}
	e.enc = hpack.NewEncoder(&e.buf)
	return e
}

// encode returns the header block for fields, valid until the next call.
// A panic in x/net's Encoder (a corrupted table) is returned as a
// *PanicError: its state can no longer be trusted, and the caller ends
// the connection.
func (e *encoder) encode(fields []Field) (b []byte, err *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if e.seen == nil {
		e.seen, e.recent = new([256]uint64), new([128]string)
	}
	e.buf.Reset()
	for _, f := range fields {
		switch {
		case neverIndexed(f.Name):
			f.Sensitive = true
		case f.Sensitive || f.Size() > maxTableSize:
		case e.sentBefore(f.Value):
			f.Name, f.Value = e.own(f.Name), e.own(f.Value)
		default:
			f.Sensitive = true // first sighting: a literal, kept by no one
		}
		_ = e.enc.WriteField(f) // writes to a bytes.Buffer: cannot fail
	}
	return e.buf.Bytes(), nil
}

// sentBefore reports whether v was sent recently, and marks it sent.
func (e *encoder) sentBefore(v string) bool {
	h := maphash.String(e.seed, v)
	slot := &e.seen[h%uint64(len(e.seen))]
	if *slot == h {
		return true
	}
	*slot = h
	return false
}

// own returns a copy of s that no one else can change: from the cache when
// the same string was indexed recently, else a new one.
func (e *encoder) own(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > maxCached {
		return strings.Clone(s)
	}
	slot := &e.recent[maphash.String(e.seed, s)%uint64(len(e.recent))]
	if *slot == s {
		return *slot
	}
	*slot = strings.Clone(s)
	return *slot
}

// neverIndexed names fields that carry credentials: RFC 7541 §7.1.3 asks
// that they never enter a compression table, where a peer sharing the
// connection could probe them (CRIME-style). Being unindexed, they are
// also never kept, so they need no copy.
func neverIndexed(name string) bool {
	switch name {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	return false
}

// setTableLimit applies the peer's SETTINGS_HEADER_TABLE_SIZE.
func (e *encoder) setTableLimit(v uint32) { e.enc.SetMaxDynamicTableSizeLimit(v) }

// cloneFields copies fields, strings included, for a caller's fields that
// h2 keeps past the call (trailers queued behind data): one allocation
// for all the strings.
func cloneFields(fs []Field) []Field {
	n := 0
	for _, f := range fs {
		n += len(f.Name) + len(f.Value)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fs {
		b.WriteString(f.Name)
		b.WriteString(f.Value)
	}
	all := b.String()
	out := make([]Field, len(fs))
	for i, f := range fs {
		out[i] = Field{Name: all[:len(f.Name)], Sensitive: f.Sensitive}
		all = all[len(f.Name):]
		out[i].Value = all[:len(f.Value)]
		all = all[len(f.Value):]
	}
	return out
}
