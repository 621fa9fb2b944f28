package rpc

// Status is the outcome of an RPC: its code, message, and details (the
// serialized google.rpc.Status of grpc-status-details-bin, or nil).
type Status struct {
	Code    Code
	Message string
	Details []byte
}

// Errorf-free constructor: most statuses are made on error paths that
// already have their message.
func New(code Code, msg string) Status { return Status{Code: code, Message: msg} }

// OK reports a successful status.
func (s Status) OK() bool { return s.Code == CodeOK }

func (s Status) String() string {
	if s.Message == "" {
		return s.Code.String()
	}
	return s.Code.String() + ": " + s.Message
}
