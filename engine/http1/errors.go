package http1

// Error is a request the client gets an answer to: the caller writes
// Status with Msg, then closes the connection (the framing can no longer
// be trusted).
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return "http1: " + e.Msg }

// Protocol errors, shared values so the error path does not allocate.
var (
	errIncomplete     = &Error{400, "incomplete request head"} // internal: wait for more
	errBadRequestLine = &Error{400, "malformed request line"}
	errBadMethod      = &Error{400, "invalid method"}
	errBadTarget      = &Error{400, "invalid request target"}
	errBadVersion     = &Error{400, "malformed HTTP version"}
	errVersion        = &Error{505, "HTTP version not supported; use HTTP/1.1"}
	errConnect        = &Error{501, "CONNECT is not supported"}
	errBareLF         = &Error{400, "line not ended by CRLF"}
	errObsFold        = &Error{400, "obsolete line folding"}
	errSpaceColon     = &Error{400, "whitespace between header name and colon"}
	errBadName        = &Error{400, "invalid header name"}
	errNoColon        = &Error{400, "header line without colon"}
	errBadValue       = &Error{400, "invalid header value"}
	errTooLong        = &Error{431, "request header fields too large"}
	errTooMany        = &Error{431, "too many header fields"}
	errURITooLong     = &Error{414, "request line too long"}
	errNoHost         = &Error{400, "missing Host header"}
	errTwoHosts       = &Error{400, "more than one Host header"}
	errBadHost        = &Error{400, "invalid Host header"}
	errBadCL          = &Error{400, "malformed Content-Length"}
	errTwoCL          = &Error{400, "more than one Content-Length"}
	errCLTE           = &Error{400, "both Content-Length and Transfer-Encoding"}
	errTwoTE          = &Error{400, "more than one Transfer-Encoding"}
	errBadTE          = &Error{400, "Transfer-Encoding must end with chunked"}
	errTE10           = &Error{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errCoding         = &Error{501, "unsupported transfer coding"}
	errExpect         = &Error{417, "unsupported expectation"}
	errBodyTooLarge   = &Error{413, "request body too large"}
	errChunkSize      = &Error{400, "malformed chunk size"}
	errChunkOverflow  = &Error{400, "chunk size overflow"}
	errChunkEnd       = &Error{400, "chunk data not followed by CRLF"}
	errChunkLine      = &Error{400, "chunk line too long"}
	errChunkOverhead  = &Error{400, "too much chunk framing for the data"}
)
