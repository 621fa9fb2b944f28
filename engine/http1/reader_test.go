package http1

import "io"

// sliceReader is a Reader over data that models partial arrival: only
// avail bytes have "arrived", and each wait (a Peek or Next for more than
// has arrived) delivers chunk more, like netpoll blocking until the next
// read. Past the end it fails with io.EOF, so a parser that spins on an
// incomplete request ends instead of hanging.
//
// With copying set it behaves like netpoll's LinkBuffer when the bytes
// span several nodes: Peek returns a reused scratch copy, which the next
// Next or Skip overwrites, and Next returns a fresh copy.
type sliceReader struct {
	data       []byte
	off, avail int
	chunk      int
	waits      int
	copying    bool
	scratch    []byte
	calls      int // reader calls, to catch a parser that spins
}

// tick counts a call; a parser does a bounded number per byte, so many
// more means it loops without progress.
func (r *sliceReader) tick() {
	if r.calls++; r.calls > 16*len(r.data)+1000 {
		panic("http1: reader called too often: the parser spins")
	}
}

func newSliceReader(data []byte, chunk int) *sliceReader {
	if chunk <= 0 {
		chunk = len(data) + 1
	}
	return &sliceReader{data: data, chunk: chunk, avail: min(chunk, len(data))}
}

func (r *sliceReader) Len() int {
	r.tick()
	return r.avail - r.off
}

func (r *sliceReader) wait(n int) error {
	for r.avail-r.off < n {
		if r.avail == len(r.data) {
			return io.EOF
		}
		r.avail = min(r.avail+r.chunk, len(r.data))
		r.waits++
	}
	return nil
}

func (r *sliceReader) Peek(n int) ([]byte, error) {
	r.tick()
	if err := r.wait(n); err != nil {
		return nil, err
	}
	p := r.data[r.off : r.off+n : r.off+n]
	if r.copying {
		r.scratch = append(r.scratch[:0], p...)
		return r.scratch, nil
	}
	return p, nil
}

func (r *sliceReader) Next(n int) ([]byte, error) {
	r.tick()
	if err := r.wait(n); err != nil {
		return nil, err
	}
	p := r.data[r.off : r.off+n : r.off+n]
	r.off += n
	if r.copying {
		for i := range r.scratch {
			r.scratch[i] = '!'
		}
		return append([]byte(nil), p...), nil
	}
	return p, nil
}

func (r *sliceReader) Skip(n int) error {
	_, err := r.Next(n)
	return err
}

func (r *sliceReader) Release() error { return nil }

// reset makes r read data again from the start, all of it available.
func (r *sliceReader) reset(data []byte) {
	*r = sliceReader{data: data, chunk: len(data) + 1, avail: len(data)}
}
