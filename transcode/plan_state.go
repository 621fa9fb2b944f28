package transcode

import "google.golang.org/protobuf/encoding/protowire"

// codecState is the per-call scratch of both codecs. Schemas pool them, so
// that a call in steady state allocates nothing: every slice here keeps its
// capacity between calls.
type codecState struct {
	s *Schema

	// JSON -> wire
	in    []byte
	pos   int
	dst   []byte
	depth int       // message levels left, as protojson's RecursionLimit
	inAny int       // nesting inside Any values
	seen  []uint64  // stack of per-object bitsets: fields, then oneofs
	keys  []keySpan // stack of map keys written, for duplicate detection
	khash []int32   // stack of hash indexes over keys of big maps
	tmp   []byte    // unescaped strings

	// wire -> JSON
	ents  []wireEnt
	cnt   []int32
	items []mapItem
}

// keySpan locates an encoded map key in dst.
type keySpan struct{ start, end int32 }

// wireEnt is one occurrence of a known field in a wire message.
type wireEnt struct {
	idx   int32 // field index in the plan
	seq   int32 // occurrence number in wire order
	wt    protowire.Type
	start int32 // value bytes (payload of length-delimited values)
	end   int32
}

func (st *codecState) reset() {
	st.s, st.in, st.dst, st.pos, st.inAny = nil, nil, nil, 0, 0
	st.seen, st.keys, st.khash, st.tmp = st.seen[:0], st.keys[:0], st.khash[:0], st.tmp[:0]
	st.ents, st.cnt = st.ents[:0], st.cnt[:0]
	for i := range st.items {
		st.items[i] = mapItem{}
	}
	st.items = st.items[:0]
}

// pushSeen reserves a zeroed bitset of n bits and returns its offset.
func (st *codecState) pushSeen(n int) int {
	off := len(st.seen)
	w := (n + 63) >> 6
	for i := 0; i < w; i++ {
		st.seen = append(st.seen, 0)
	}
	return off
}

// testAndSet sets bit i of the bitset at off and reports whether it was set.
func (st *codecState) testAndSet(off, i int) bool {
	w, m := &st.seen[off+i>>6], uint64(1)<<(i&63)
	was := *w&m != 0
	*w |= m
	return was
}
