// Package http1 is strait's HTTP/1.1 server codec (RFC 9112): it parses
// requests straight from a netpoll-style zero-copy Reader and appends
// response heads and chunks to byte slices.
//
// Parsing is strict, because a gateway that reads a request differently
// from the server behind it can be used to smuggle requests: every framing
// ambiguity (Content-Length with Transfer-Encoding, duplicate or malformed
// Content-Length, obs-fold, whitespace before a colon, bare LF, a coding
// other than a final chunked, missing or doubled Host) is an *Error whose
// Status the caller answers before closing the connection. The doc
// comment of each check names its RFC section; request_test.go holds one
// case per rule.
//
// The API:
//
//	ReadRequest(r, req, lim)          // ReadHead + ReadBody
//	ReadHead(r, req, lim)             // request line and header fields
//	ReadBody(r, req, lim)             // the body, after an optional 100 Continue
//	AppendResponseHead(dst, status, contentType, contentLength, keepAlive, extra)
//	                                  // contentLength: n, LengthChunked or LengthClose
//	AppendChunk(dst, p), AppendLastChunk(dst, trailers...)
//	AppendContinue(dst), StatusText(code)
//
// Views in a Request (Method, Target, Path, RawQuery, header names and
// values, a Content-Length body) point into the Reader's buffer and die at
// r.Release(); a chunked body is decoded into a buffer the Request owns,
// valid until its next Reset.
//
// Blocking: a caller invoked by netpoll's OnRequest must consume what is
// buffered, or netpoll calls it again at once. ReadHead and ReadBody wait
// for the rest of a partial request inside r.Peek / r.Next, which block in
// netpoll until the bytes arrive or the connection's read timeout fires
// (the engine sets that timeout; it is the slowloris bound). The timeout
// bounds each wait, not the whole head: a client trickling a byte per
// interval is stopped by MaxHeaderBytes, or sooner by an engine timer that
// closes the connection. After any error the buffered bytes are skipped,
// so a caller loop on r.Len() ends.
//
// http1 must not import strait's engine, upstream, transcode or h2
// packages, nor netpoll: netpoll.Reader satisfies Reader.
package http1
