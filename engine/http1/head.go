package http1

import (
	"bytes"
	"net/netip"
)

// ReadHead reads the request line and header fields of the next request
// into req (after req.Reset by the caller), consuming them from r. It
// waits in r.Peek for the rest of a partial head. A Content-Length over
// lim.MaxBodyBytes is a 413 here, before any body byte is read.
func ReadHead(r Reader, req *Request, lim Limits) error {
	lim = lim.withDefaults()
	if err := readHeadFast(r, req, lim); err != errIncomplete {
		return err
	}
	req.Reset()
	n, err := headLen(r, lim.MaxHeaderBytes)
	if err != nil {
		return fail(r, err)
	}
	head, err := r.Next(n)
	if err != nil {
		return fail(r, eof(err))
	}
	if _, err := parseHead(head, req, lim); err != nil {
		return fail(r, err)
	}
	return nil
}

// readHeadFast parses the head in one pass over what is buffered, the
// usual case. It returns errIncomplete when the head has not all arrived,
// and also for an error found before the head's end has arrived, so that
// errors surface at the same point at any read fragmentation.
func readHeadFast(r Reader, req *Request, lim Limits) error {
	buf, err := r.Peek(min(r.Len(), lim.MaxHeaderBytes))
	if err != nil || len(buf) == 0 {
		return errIncomplete
	}
	n, err := parseHead(buf, req, lim)
	switch {
	case err == errIncomplete:
		return err
	case err != nil:
		if findHeadEnd(buf, 0) == 0 {
			return errIncomplete
		}
		return fail(r, err)
	}
	head, err := r.Next(n)
	if err != nil {
		return fail(r, eof(err))
	}
	if &head[0] != &buf[0] {
		// r copied the head out of several buffers: the views must point
		// into the copy that lives until Release.
		req.Reset()
		if _, err := parseHead(head, req, lim); err != nil {
			return fail(r, err)
		}
	}
	return nil
}

// headLen waits until r holds a whole head and returns its length. The
// search resumes where the last one stopped, so a head that arrives byte
// by byte costs O(n) scanning, not O(n²).
func headLen(r Reader, limit int) (int, error) {
	from := 0
	for {
		n := r.Len()
		w := min(n, limit)
		buf, err := r.Peek(w)
		if err != nil {
			return 0, eof(err)
		}
		if end := findHeadEnd(buf, from); end > 0 {
			return end, nil
		}
		if w == limit {
			if bytes.IndexByte(buf, '\n') < 0 {
				return 0, errURITooLong
			}
			return 0, errTooLong
		}
		from = max(0, w-2)
		if _, err := r.Peek(n + 1); err != nil {
			return 0, eof(err)
		}
	}
}

// findHeadEnd returns the length of the head at the start of buf: up to
// the first empty line, counting empty lines before the request line
// (RFC 9112 §2.2) as part of it. It returns 0 when buf holds no end yet.
// A bare LF also ends the head here, so parseHead can reject it rather
// than wait for a CRLF that never comes.
func findHeadEnd(buf []byte, from int) int {
	skip := leadingCRLF(buf)
	from = max(from, skip)
	for from < len(buf) {
		i := bytes.IndexByte(buf[from:], '\n')
		if i < 0 {
			return 0
		}
		i += from
		switch {
		case i+1 >= len(buf):
			return 0
		case buf[i+1] == '\n':
			return i + 2
		case buf[i+1] == '\r':
			if i+2 >= len(buf) {
				return 0
			}
			if buf[i+2] == '\n' {
				return i + 3
			}
		}
		from = i + 1
	}
	return 0
}

// leadingCRLF is the length of the empty lines before a request line.
func leadingCRLF(b []byte) int {
	i := 0
	for i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
		i += 2
	}
	return i
}

// cutLine splits the first CRLF-ended line off b.
func cutLine(b []byte) (line, rest []byte, err error) {
	i := bytes.IndexByte(b, '\n')
	switch {
	case i < 0:
		return nil, nil, errIncomplete
	case i == 0 || b[i-1] != '\r':
		return nil, nil, errBareLF
	}
	return b[:i-1], b[i+1:], nil
}

// parseHead parses the head at the start of buf into req and returns its
// length; errIncomplete means buf ends before the head does.
func parseHead(buf []byte, req *Request, lim Limits) (int, error) {
	line, rest, err := cutLine(buf[leadingCRLF(buf):])
	if err != nil {
		return 0, err
	}
	if err := parseRequestLine(line, req); err != nil {
		return 0, err
	}
	var st fieldState
	for {
		if line, rest, err = cutLine(rest); err != nil {
			return 0, err
		}
		if len(line) == 0 {
			return len(buf) - len(rest), st.finish(req, lim)
		}
		if len(req.Headers) == lim.MaxHeaders {
			return 0, errTooMany
		}
		if err := st.field(req, line); err != nil {
			return 0, err
		}
	}
}

// parseRequestLine parses method SP request-target SP HTTP-version
// (RFC 9112 §3), one SP each, nothing else.
func parseRequestLine(line []byte, req *Request) error {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return errBadRequestLine
	}
	req.Method = line[:sp]
	if !isToken(req.Method) {
		return errBadMethod
	}
	line = line[sp+1:]
	if sp = bytes.IndexByte(line, ' '); sp < 0 {
		return errBadRequestLine
	}
	if err := parseVersion(line[sp+1:], req); err != nil {
		return err
	}
	return parseTarget(line[:sp], req)
}

// parseVersion accepts HTTP/1.1 and HTTP/1.0; another well-formed
// HTTP-version is a 505 (RFC 9112 §2.3).
func parseVersion(v []byte, req *Request) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		!isDigit(v[5]) || !isDigit(v[7]) {
		return errBadVersion
	}
	if v[5] != '1' || v[7] > '1' {
		return errVersion
	}
	req.Proto11 = v[7] == '1'
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseTarget splits the request-target (RFC 9112 §3.2): origin-form,
// absolute-form with an http(s) scheme, or "*" for OPTIONS.
func parseTarget(t []byte, req *Request) error {
	if !validTarget(t) {
		return errBadTarget
	}
	req.Target = t
	switch {
	case len(t) > 0 && t[0] == '/':
	case string(req.Method) == "CONNECT":
		return errConnect
	case len(t) == 1 && t[0] == '*' && string(req.Method) == "OPTIONS":
		req.Path = t
		return nil
	default:
		var ok bool
		if t, ok = absolutePath(t, req); !ok {
			return errBadTarget
		}
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		req.RawQuery = t[q+1:]
		t = t[:q]
	}
	req.Path = t
	return nil
}

// rootPath is the path of an absolute-form target without one.
var rootPath = []byte("/")

// absolutePath returns the path-and-query of an absolute-form target and
// keeps its authority as the request's host (RFC 9112 §3.2.2). The path
// "/" of "http://h" and "http://h?q" is not a view into the reader.
func absolutePath(t []byte, req *Request) ([]byte, bool) {
	var rest []byte
	switch {
	case len(t) > 7 && equalFold(t[:7], "http://"):
		rest = t[7:]
	case len(t) > 8 && equalFold(t[:8], "https://"):
		rest = t[8:]
	default:
		return nil, false
	}
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	if !validAuthority(auth) {
		return nil, false
	}
	req.Host = auth
	rest = rest[end:]
	if len(rest) == 0 || rest[0] == '?' {
		return append(rootPath[:1:1], rest...), true
	}
	return rest, true
}

// validAuthority accepts host [":" port] of an http(s) URI: a reg-name of
// unreserved and sub-delims characters, or a bracketed IPv6 literal
// (RFC 3986 §3.2). Percent-escapes and userinfo are refused.
func validAuthority(a []byte) bool {
	host := a
	if i := bytes.LastIndexByte(a, ':'); i >= 0 && bytes.IndexByte(a[i:], ']') < 0 {
		host = a[:i]
		for _, c := range a[i+1:] {
			if !isDigit(c) {
				return false
			}
		}
	}
	if len(host) == 0 {
		return false
	}
	if host[0] == '[' {
		return validIPLiteral(host)
	}
	for _, c := range host {
		if !hostChar[c] || c == '%' || c == ':' || c == '[' || c == ']' {
			return false
		}
	}
	return true
}

// validIPLiteral accepts "[" IPv6address "]" (RFC 3986 §3.2.2), zones
// excluded. The conversion to string allocates; absolute-form targets with
// IP literals are rare.
func validIPLiteral(h []byte) bool {
	if len(h) < 3 || h[len(h)-1] != ']' {
		return false
	}
	for _, c := range h[1 : len(h)-1] {
		if hexVal[c] < 0 && c != ':' && c != '.' {
			return false
		}
	}
	a, err := netip.ParseAddr(string(h[1 : len(h)-1]))
	return err == nil && a.Is6()
}
