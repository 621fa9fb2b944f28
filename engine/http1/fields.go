package http1

import "bytes"

// fieldState collects what the framing checks need across header fields.
type fieldState struct {
	host, cl, te    bool
	close, ka, cont bool
	expectOther     bool
	clValue         int64
}

// field parses one header line: field-name ":" OWS field-value OWS
// (RFC 9112 §5). Leading whitespace is obs-fold (or whitespace after the
// request line), both rejected (§5.2, §2.2).
func (st *fieldState) field(req *Request, line []byte) error {
	name, value, err := splitField(line)
	if err != nil {
		return err
	}
	req.Headers = append(req.Headers, Header{Name: name, Value: value})
	return st.known(req, name, value)
}

// splitField checks a non-empty field line and splits it.
func splitField(line []byte) (name, value []byte, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, errObsFold
	}
	colon := 0
	for colon < len(line) && tokenChar[line[colon]] {
		colon++
	}
	if colon == len(line) || line[colon] != ':' {
		return nil, nil, badName(line, colon)
	}
	if colon == 0 {
		return nil, nil, errBadName
	}
	name = line[:colon]
	value = trimOWS(line[colon+1:])
	if !validValue(value) {
		return nil, nil, errBadValue
	}
	return name, value, nil
}

// badName tells why the name ending at line[i] is not followed by a colon.
func badName(line []byte, i int) error {
	rest := line[i:]
	if c := bytes.IndexByte(rest, ':'); c < 0 {
		return errNoColon
	} else if len(trimOWS(rest[:c])) == 0 && i > 0 {
		return errSpaceColon
	}
	return errBadName
}

// known records the fields that decide framing and the connection.
func (st *fieldState) known(req *Request, name, value []byte) error {
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			return st.setHost(req, value)
		}
	case 6:
		if equalFold(name, "accept") {
			if req.Accept == nil {
				req.Accept = value
			}
		} else if equalFold(name, "expect") {
			st.expect(value)
		}
	case 10:
		if equalFold(name, "connection") {
			st.connection(value)
		}
	case 12:
		if equalFold(name, "content-type") && req.ContentType == nil {
			req.ContentType = value
		}
	case 14:
		if equalFold(name, "content-length") {
			return st.contentLength(value)
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			return st.transferEncoding(value)
		}
	}
	return nil
}

// setHost takes the one Host field (RFC 9112 §3.2). With an absolute-form
// target the target's authority wins, but a second Host is still an error.
func (st *fieldState) setHost(req *Request, value []byte) error {
	if st.host {
		return errTwoHosts
	}
	st.host = true
	if !validHost(value) {
		return errBadHost
	}
	if req.Host == nil {
		req.Host = value
	}
	return nil
}

// contentLength accepts one field of 1 to 18 digits (RFC 9112 §6.3): a
// list, a sign, a repeat (even of the same value) are errors, since
// intermediaries disagree on them.
func (st *fieldState) contentLength(v []byte) error {
	if st.cl {
		return errTwoCL
	}
	st.cl = true
	if len(v) == 0 || len(v) > 18 {
		return errBadCL
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return errBadCL
		}
		n = n*10 + int64(c-'0')
	}
	st.clValue = n
	return nil
}

// transferEncoding accepts exactly "chunked", once (RFC 9112 §6.1). A
// final chunked after other codings is a 501 (we decode none of them);
// anything that does not end in chunked leaves the length unknown: 400.
func (st *fieldState) transferEncoding(v []byte) error {
	if st.te {
		return errTwoTE
	}
	st.te = true
	var last []byte
	n, chunked := 0, 0
	for rest := v; ; {
		var tok []byte
		tok, rest = nextToken(rest)
		if !isToken(tok) {
			return errBadTE
		}
		last = tok
		n++
		if equalFold(tok, "chunked") {
			chunked++
		}
		if rest == nil {
			break
		}
	}
	switch {
	case !equalFold(last, "chunked") || chunked > 1:
		return errBadTE
	case n > 1:
		return errCoding
	}
	return nil
}

// connection notes the close and keep-alive options (RFC 9112 §9.3).
func (st *fieldState) connection(v []byte) {
	for rest := v; ; {
		var tok []byte
		tok, rest = nextToken(rest)
		if equalFold(tok, "close") {
			st.close = true
		} else if equalFold(tok, "keep-alive") {
			st.ka = true
		}
		if rest == nil {
			return
		}
	}
}

// expect notes 100-continue; any other expectation is a 417
// (RFC 9110 §10.1.1).
func (st *fieldState) expect(v []byte) {
	if equalFold(v, "100-continue") {
		st.cont = true
	} else {
		st.expectOther = true
	}
}

// finish applies the checks that need every field: Host on HTTP/1.1,
// the framing (RFC 9112 §6.3), the body limit and the connection.
func (st *fieldState) finish(req *Request, lim Limits) error {
	switch {
	case req.Proto11 && !st.host:
		return errNoHost
	case st.cl && st.te:
		return errCLTE
	case st.te && !req.Proto11:
		return errTE10
	case st.expectOther:
		return errExpect
	case st.clValue > int64(lim.MaxBodyBytes):
		return errBodyTooLarge
	}
	req.ContentLength = st.clValue
	if st.te {
		req.Chunked, req.ContentLength = true, -1
	}
	req.ExpectContinue = st.cont && req.Proto11
	if req.Proto11 {
		req.KeepAlive = !st.close
	} else {
		req.KeepAlive = st.ka && !st.close
	}
	return nil
}
