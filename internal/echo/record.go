package echo

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"

	pb "github.com/straitgw/strait/internal/echopb"
)

// Record is what the server received in one call.
type Record struct {
	Method string
	MD     metadata.MD // as grpc-go handed it over: -bin values decoded
	Msgs   []*pb.EchoRequest
}

// recorder keeps the records of calls with an x-req-id until taken.
type recorder struct {
	mu      sync.Mutex
	cond    *sync.Cond
	records map[string]*Record
	headers map[string]metadata.MD // as a call arrived, before any decoding
}

func (r *recorder) init() {
	r.records = map[string]*Record{}
	r.headers = map[string]metadata.MD{}
	r.cond = sync.NewCond(&r.mu)
}

// tap keeps the headers of every call with an x-req-id as it arrives,
// also of calls grpc-go fails before the handler runs (a message it
// cannot decode or decompress).
func (r *recorder) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if ids := info.Header.Get(RequestIDKey); len(ids) > 0 {
		r.mu.Lock()
		r.headers[ids[0]] = info.Header.Copy()
		r.mu.Unlock()
	}
	return ctx, nil
}

// Headers returns and forgets the request headers of the call with
// x-req-id id, nil if none arrived. Take forgets them too.
func (s *Server) Headers(id string) metadata.MD {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	md := s.rec.headers[id]
	delete(s.rec.headers, id)
	return md
}

func (r *recorder) put(md metadata.MD, method string, msgs ...*pb.EchoRequest) {
	ids := md.Get(RequestIDKey)
	if len(ids) == 0 {
		return
	}
	rec := &Record{Method: method, MD: md.Copy()}
	for _, m := range msgs {
		if m != nil {
			rec.Msgs = append(rec.Msgs, proto.CloneOf(m))
		}
	}
	r.mu.Lock()
	r.records[ids[0]] = rec
	r.mu.Unlock()
	r.cond.Broadcast()
}

// Take returns and forgets the record of the call with x-req-id id,
// waiting up to wait for the call to end; nil if none came.
func (s *Server) Take(id string, wait time.Duration) *Record {
	r := &s.rec
	deadline := time.Now().Add(wait)
	t := time.AfterFunc(wait, r.cond.Broadcast)
	defer t.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if rec, ok := r.records[id]; ok {
			delete(r.records, id)
			delete(r.headers, id)
			return rec
		}
		if !time.Now().Before(deadline) {
			return nil
		}
		r.cond.Wait()
	}
}

// Pending is how many records no test took (a test may require 0).
func (s *Server) Pending() int {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return len(s.rec.records)
}

// PendingIDs lists the x-req-id of the calls no one took, with their method.
func (s *Server) PendingIDs() []string {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	var ids []string
	for id, r := range s.rec.records {
		ids = append(ids, id+" "+r.Method)
	}
	return ids
}
