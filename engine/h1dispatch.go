package engine

// dispatch routes the parsed request and starts its upstream call, or
// answers it locally. The request's views are valid until the caller
// releases the reader, so everything upstream needs is encoded here.
func (h *h1Conn) dispatch() {
	req := &h.req
	s := h.c.e.snap.Load()
	h.begin(req.KeepAlive, req.Proto11)
	ctype := bstr(req.ContentType)
	if mode, ok := grpcWebMode(ctype); ok {
		h.dispatchWeb(s, mode)
		return
	}
	if isGRPC(ctype) {
		h.localReply(415, 3, "native gRPC needs HTTP/2; use h2c on this port", nil)
		return
	}
	m := &h.match
	msg, rej := s.prepareREST(m, &restRequest{method: bstr(req.Method), path: req.Path,
		query: req.RawQuery, body: req.Body, ctype: req.ContentType}, h.msg)
	h.msg = msg
	if rej != nil {
		h.localReply(rej.status, rej.code, rej.msg, rej.fields())
		return
	}
	c := newCall(h.c.e, s, callREST, m.Route, h)
	h.send(s, c, msg, m.Route.GRPCPath)
}

// dispatchWeb forwards a gRPC-Web request body, already framed, upstream.
func (h *h1Conn) dispatchWeb(s *snapshot, mode webMode) {
	req := &h.req
	path := bstr(req.Path)
	svc, ok := serviceOf(path)
	if !ok || bstr(req.Method) != "POST" {
		h.localReply(404, 12, "no gRPC method at "+path, nil)
		return
	}
	body := req.Body
	if mode == webText {
		var err error
		if body, err = decodeWebText(body); err != nil {
			h.localReply(400, 3, "grpc-web-text body is not base64", nil)
			return
		}
	}
	c := newCall(h.c.e, s, callGRPCWeb, s.router.Lookup(path), h)
	c.svc, c.web = svc, mode
	h.msg = append(h.msg[:0], body...)
	h.send(s, c, h.msg, path)
}

// send opens the upstream stream for c with the request's metadata.
func (h *h1Conn) send(s *snapshot, c *call, msg []byte, path string) {
	req := &h.req
	h.lower = h.lower[:0]
	fs := requestFields(h.fields[:0], path, bstr(req.Host))
	var timeout string
	for _, hd := range req.Headers {
		name := h.lowerName(hd.Name)
		if name == "grpc-timeout" {
			timeout = bstr(hd.Value)
		}
		fs = appendMetadata(fs, name, bstr(hd.Value))
	}
	d := s.deadline(timeout)
	fs = appendTimeout(fs, d)
	h.fields = fs
	h.mu.Lock()
	h.cur = c
	h.mu.Unlock()
	if err := c.start(nil, fs, msg, d); err != nil {
		h.mu.Lock()
		h.cur = nil
		h.mu.Unlock()
		h.localReply(503, 14, err.Error(), nil)
	}
}

// lowerName lower-cases an HTTP/1.1 header name into reusable scratch.
// The result is valid until the next call.
func (h *h1Conn) lowerName(b []byte) string {
	if lowerASCII(b) {
		return bstr(b)
	}
	start := len(h.lower)
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h.lower = append(h.lower, c)
	}
	// Names are kept until the upstream HEADERS are encoded; the scratch is
	// reset per request by requestFields' caller.
	return bstr(h.lower[start:])
}
