// Package rpc is strait's gRPC status vocabulary: codes, statuses, and
// their HTTP forms (PROTOCOL-HTTP2.md, google.rpc.Code). Every package
// speaks it instead of bare integers. It imports nothing of strait's.
package rpc

import (
	"strconv"
	"strings"
)

// Code is a gRPC status code.
type Code uint32

// The codes of google.rpc.Code.
const (
	CodeOK                 Code = 0
	CodeCanceled           Code = 1
	CodeUnknown            Code = 2
	CodeInvalidArgument    Code = 3
	CodeDeadlineExceeded   Code = 4
	CodeNotFound           Code = 5
	CodeAlreadyExists      Code = 6
	CodePermissionDenied   Code = 7
	CodeResourceExhausted  Code = 8
	CodeFailedPrecondition Code = 9
	CodeAborted            Code = 10
	CodeOutOfRange         Code = 11
	CodeUnimplemented      Code = 12
	CodeInternal           Code = 13
	CodeUnavailable        Code = 14
	CodeDataLoss           Code = 15
	CodeUnauthenticated    Code = 16
)

// NumCodes is one past the largest code.
const NumCodes = 17

var names = [NumCodes]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// String is the code's canonical name ("UNAVAILABLE").
func (c Code) String() string {
	if c < NumCodes {
		return names[c]
	}
	return "CODE(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// values holds the grpc-status forms of the codes, so that formatting one
// allocates nothing.
var values = [NumCodes]string{"0", "1", "2", "3", "4", "5", "6", "7", "8",
	"9", "10", "11", "12", "13", "14", "15", "16"}

// Value is the code as a grpc-status header value.
func (c Code) Value() string {
	if c < NumCodes {
		return values[c]
	}
	return strconv.FormatUint(uint64(c), 10)
}

// ParseCode reads a grpc-status value. A malformed one is UNKNOWN, as a
// client would take it; codes beyond 16 are kept (PROTOCOL-HTTP2.md lets
// servers send them).
func ParseCode(v string) Code {
	if len(v) == 1 && '0' <= v[0] && v[0] <= '9' {
		return Code(v[0] - '0')
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return CodeUnknown
	}
	return Code(n)
}

// httpStatuses maps codes to HTTP statuses as google.rpc.Code documents
// them (Envoy, grpc-gateway and vanguard agree).
var httpStatuses = [NumCodes]int{200, 499, 500, 400, 504, 404, 409, 403, 429,
	400, 409, 400, 501, 500, 503, 500, 401}

// HTTPStatus is the HTTP status a REST client gets for c; unknown codes
// are 500.
func (c Code) HTTPStatus() int {
	if c < NumCodes {
		return httpStatuses[c]
	}
	return 500
}

// CodeOfHTTP is the code a gRPC client reads from an HTTP status that
// came without grpc-status (PROTOCOL-HTTP2.md, "HTTP to gRPC Status Code
// Mapping").
func CodeOfHTTP(status int) Code {
	switch status {
	case 400:
		return CodeInternal
	case 401:
		return CodeUnauthenticated
	case 403:
		return CodePermissionDenied
	case 404:
		return CodeUnimplemented
	case 429, 502, 503, 504:
		return CodeUnavailable
	}
	return CodeUnknown
}

// CodeByName reads a code's canonical name ("UNAVAILABLE", any case) or
// its number.
func CodeByName(s string) (Code, bool) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return Code(i), true
		}
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil && n < NumCodes {
		return Code(n), true
	}
	return 0, false
}
