package http1

import "bytes"

// maxChunkLine bounds a chunk-size line with its extensions (net/http
// allows less than 4096 bytes).
const maxChunkLine = 1024

// maxOverhead bounds chunk framing beyond its allowance (see readChunked).
const maxOverhead = 16 << 10

// ReadBody reads the body announced by the head ReadHead parsed into req:
// a Content-Length body becomes a view into r, a chunked body is decoded
// into req's own buffer. Call it after writing "100 Continue" when
// req.ExpectContinue is set and r.Len() == 0 (the client waits for it).
func ReadBody(r Reader, req *Request, lim Limits) error {
	lim = lim.withDefaults()
	switch {
	case req.Chunked:
		if err := readChunked(r, req, lim); err != nil {
			return fail(r, err)
		}
	case req.ContentLength > int64(lim.MaxBodyBytes):
		return fail(r, errBodyTooLarge)
	case req.ContentLength > 0:
		b, err := r.Next(int(req.ContentLength))
		if err != nil {
			return fail(r, eof(err))
		}
		req.Body = b
	}
	return nil
}

// readChunked decodes a chunked body and its trailer section
// (RFC 9112 §7.1). Trailer fields are checked like header fields and
// dropped: nothing downstream reads request trailers.
//
// Framing bytes are budgeted like net/http does: 16 per chunk plus twice
// the chunk's data are free, and more than maxOverhead beyond that is a
// 400, so tiny chunks with long extensions cannot cost far more work than
// the body they carry.
func readChunked(r Reader, req *Request, lim Limits) error {
	body := req.body[:0]
	defer func() { req.body = body; req.Body = body }()
	overhead := 0
	for {
		size, n, err := readChunkSize(r, lim.MaxBodyBytes-len(body))
		if err != nil {
			return err
		}
		if overhead = max(0, overhead+n+2-16-2*size); overhead > maxOverhead {
			return errChunkOverhead
		}
		if size == 0 {
			return readTrailers(r, lim)
		}
		if body, err = appendN(r, body, size); err != nil {
			return err
		}
		if err := readCRLF(r); err != nil {
			return err
		}
	}
}

// readChunkSize reads chunk-size [chunk-ext] CRLF. Extensions are checked
// for characters and ignored; whitespace before them is not accepted (a
// known disagreement between parsers). A size over budget is a 413.
// It returns the size and the line's length with its CRLF.
func readChunkSize(r Reader, budget int) (size, n int, err error) {
	line, n, err := peekLine(r, maxChunkLine)
	if err != nil {
		return 0, 0, err
	}
	var v uint64
	i := 0
	for ; i < len(line) && hexVal[line[i]] >= 0; i++ {
		if i == 16 {
			return 0, 0, errChunkOverflow
		}
		v = v<<4 | uint64(hexVal[line[i]])
	}
	if i == 0 || (i < len(line) && (line[i] != ';' || !validValue(line[i:]))) {
		return 0, 0, errChunkSize
	}
	if v > uint64(budget) {
		return 0, 0, errBodyTooLarge
	}
	return int(v), n, skip(r, n)
}

// peekLine waits for a CRLF-ended line of at most limit bytes at the start
// of r and returns it (a view valid until the next read) and its length
// with the CRLF. Nothing is consumed.
func peekLine(r Reader, limit int) (line []byte, n int, err error) {
	from := 0
	for {
		avail := r.Len()
		w := min(avail, limit+2)
		buf, err := r.Peek(w)
		if err != nil {
			return nil, 0, eof(err)
		}
		if i := bytes.IndexByte(buf[from:], '\n'); i >= 0 {
			i += from
			if i == 0 || buf[i-1] != '\r' {
				return nil, 0, errBareLF
			}
			return buf[:i-1], i + 1, nil
		}
		if w == limit+2 {
			return nil, 0, errChunkLine
		}
		from = w
		if _, err := r.Peek(avail + 1); err != nil {
			return nil, 0, eof(err)
		}
	}
}

// appendN appends the next n bytes of r to dst, taking whatever is
// buffered at each step so that r never has to assemble one large
// contiguous slice.
func appendN(r Reader, dst []byte, n int) ([]byte, error) {
	for n > 0 {
		k := min(r.Len(), n)
		if k == 0 {
			if _, err := r.Peek(1); err != nil {
				return dst, eof(err)
			}
			continue
		}
		p, err := r.Next(k)
		if err != nil {
			return dst, eof(err)
		}
		dst = append(dst, p...)
		n -= k
	}
	return dst, nil
}

// skip consumes n buffered bytes.
func skip(r Reader, n int) error {
	if err := r.Skip(n); err != nil {
		return eof(err)
	}
	return nil
}

// readCRLF consumes the CRLF that ends chunk data.
func readCRLF(r Reader) error {
	p, err := r.Peek(2)
	if err != nil {
		return eof(err)
	}
	if p[0] != '\r' || p[1] != '\n' {
		return errChunkEnd
	}
	return skip(r, 2)
}

// readTrailers consumes the trailer section up to its empty line, within
// the header limits: MaxHeaderBytes for the section with its final CRLF.
func readTrailers(r Reader, lim Limits) error {
	for count, total := 0, 0; ; count++ {
		room := lim.MaxHeaderBytes - total - 2
		if room < 0 {
			return errTooLong
		}
		line, n, err := peekLine(r, room)
		if err != nil {
			if err == errChunkLine {
				return errTooLong
			}
			return err
		}
		if len(line) == 0 {
			return skip(r, n)
		}
		if count == lim.MaxHeaders {
			return errTooMany
		}
		if _, _, err := splitField(line); err != nil {
			return err
		}
		total += n
		if err := skip(r, n); err != nil {
			return err
		}
	}
}
