package peers

import (
	"io"
	"net/http"
	"strconv"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// maxBody bounds a request body the hand-written proxy reads.
const maxBody = 4 << 20

// NetHTTP is the plain proxy a team would write by hand: ServeMux patterns,
// io.ReadAll, protojson, one grpc.ClientConn.
func NetHTTP(upstream string) (http.Handler, error) {
	conn, err := Dial(upstream)
	if err != nil {
		return nil, err
	}
	c := benchv1.NewBenchClient(conn)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		in := &benchv1.PingRequest{}
		if readJSON(w, r, in) {
			out, err := c.Ping(r.Context(), in)
			writeJSON(w, out, err)
		}
	})
	mux.HandleFunc("POST /v1/tenants/{tenant}/records", func(w http.ResponseWriter, r *http.Request) {
		in := &benchv1.PutRecordRequest{Tenant: r.PathValue("tenant"), Record: &benchv1.Record{}}
		if readJSON(w, r, in.Record) {
			out, err := c.PutRecord(r.Context(), in)
			writeJSON(w, out, err)
		}
	})
	mux.HandleFunc("POST /v1/batches", func(w http.ResponseWriter, r *http.Request) {
		in := &benchv1.Batch{}
		if readJSON(w, r, in) {
			out, err := c.PutBatch(r.Context(), in)
			writeJSON(w, out, err)
		}
	})
	mux.HandleFunc("GET /v1/tenants/{tenant}/records", func(w http.ResponseWriter, r *http.Request) {
		streamRecords(w, r, c)
	})
	return mux, nil
}

func readJSON(w http.ResponseWriter, r *http.Request, m proto.Message) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil {
		err = protojson.Unmarshal(body, m)
	}
	if err != nil {
		writeError(w, status.New(codes.InvalidArgument, err.Error()))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, m proto.Message, err error) {
	if err != nil {
		writeError(w, status.Convert(err))
		return
	}
	b, err := protojson.Marshal(m)
	if err != nil {
		writeError(w, status.New(codes.Internal, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func streamRecords(w http.ResponseWriter, r *http.Request, c benchv1.BenchClient) {
	n, err := strconv.Atoi(r.URL.Query().Get("count"))
	if err != nil {
		writeError(w, status.New(codes.InvalidArgument, "count: "+err.Error()))
		return
	}
	st, err := c.ListRecords(r.Context(), &benchv1.ListRecordsRequest{Tenant: r.PathValue("tenant"), Count: int32(n)})
	if err != nil {
		writeError(w, status.Convert(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	for {
		m, err := st.Recv()
		if err != nil {
			return // io.EOF, or a broken stream the client sees as a short body
		}
		b, _ := protojson.Marshal(m)
		w.Write(append(b, '\n'))
		http.NewResponseController(w).Flush()
	}
}

var httpStatus = map[codes.Code]int{
	codes.InvalidArgument: 400, codes.NotFound: 404, codes.AlreadyExists: 409, codes.PermissionDenied: 403,
	codes.Unauthenticated: 401, codes.ResourceExhausted: 429, codes.Unimplemented: 501,
	codes.Unavailable: 503, codes.DeadlineExceeded: 504,
}

func writeError(w http.ResponseWriter, s *status.Status) {
	code, ok := httpStatus[s.Code()]
	if !ok {
		code = 500
	}
	b, _ := protojson.Marshal(s.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
