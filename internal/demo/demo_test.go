package demo

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// start serves a fresh demo server on loopback and returns a client for it.
func start(t *testing.T) *grpc.ClientConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer()
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func method(name protoreflect.Name) protoreflect.MethodDescriptor {
	return service().Methods().ByName(name)
}

// call invokes a unary method with a request given as proto3 JSON and
// returns the response as JSON.
func call(t *testing.T, cc *grpc.ClientConn, name protoreflect.Name, reqJSON string) (string, error) {
	t.Helper()
	md := method(name)
	req := dynamicpb.NewMessage(md.Input())
	if err := protojson.Unmarshal([]byte(reqJSON), req); err != nil {
		t.Fatalf("%s request %s: %v", name, reqJSON, err)
	}
	resp := dynamicpb.NewMessage(md.Output())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cc.Invoke(ctx, "/"+ServiceName+"/"+string(name), req, resp); err != nil {
		return "", err
	}
	b, err := protojson.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

func TestServiceDescCoversEveryMethod(t *testing.T) {
	sd := serviceDesc()
	got := len(sd.Methods) + len(sd.Streams)
	if want := service().Methods().Len(); got != want {
		t.Fatalf("got %d handlers; want %d", got, want)
	}
	if got, want := len(sd.Methods), len(unaryMethods); got != want {
		t.Errorf("unary: got %d; want %d", got, want)
	}
}

func TestDescriptorsHaveHTTPRules(t *testing.T) {
	if len(Descriptors()) == 0 {
		t.Fatal("empty descriptor set")
	}
	methods := service().Methods()
	for i := range methods.Len() {
		opts := methods.Get(i).Options().(*descriptorpb.MethodOptions)
		var found bool
		opts.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
			found = found || fd.Number() == 72295728
			return true
		})
		if !found && len(opts.ProtoReflect().GetUnknown()) == 0 {
			t.Errorf("%s has no google.api.http option", methods.Get(i).Name())
		}
	}
}

func TestUnary(t *testing.T) {
	cc := start(t)
	tests := []struct {
		method protoreflect.Name
		req    string
		code   codes.Code
		want   string // substring of the JSON response or of the error message
	}{
		{"ListShelves", `{}`, codes.OK, `"theme":"Science"`},
		{"GetShelf", `{"shelf":"1"}`, codes.OK, `"theme":"Fiction"`},
		{"GetShelf", `{"shelf":"99"}`, codes.NotFound, "shelf 99 not found"},
		{"GetShelf", `{"shelf":"0"}`, codes.InvalidArgument, "positive integer"},
		{"CreateShelf", `{"shelf":{"theme":"Poetry"}}`, codes.OK, `"id":"3"`},
		{"CreateShelf", `{"shelf":{"theme":"fiction"}}`, codes.AlreadyExists, "shelf 1 already has the theme"},
		{"CreateShelf", `{"shelf":{"theme":" "}}`, codes.InvalidArgument, "shelf.theme is required"},
		{"CreateShelf", `{}`, codes.InvalidArgument, "shelf is required"},
		{"CreateShelf", `{"shelf":{"id":"7","theme":"X"}}`, codes.InvalidArgument, "assigned by the server"},
		{"ListBooks", `{"shelf":"1"}`, codes.OK, `"title":"Dune"`},
		{"ListBooks", `{"shelf":"1","pageSize":1}`, codes.OK, `"nextPageToken":"1"`},
		{"ListBooks", `{"shelf":"1","pageSize":1,"pageToken":"1"}`, codes.OK, `"title":"Dune"`},
		{"ListBooks", `{"shelf":"1","pageToken":"x"}`, codes.InvalidArgument, "page_token"},
		{"ListBooks", `{"shelf":"1","pageSize":-1}`, codes.InvalidArgument, "page_size"},
		{"ListBooks", `{"shelf":"2","genre":"GENRE_POETRY"}`, codes.OK, `{}`},
		{"ListBooks", `{"shelf":"5"}`, codes.NotFound, "shelf 5 not found"},
		{"GetBook", `{"shelf":"1","book":"2"}`, codes.OK, `"publisher":"Chilton Books"`},
		{"GetBook", `{"shelf":"2","book":"1"}`, codes.NotFound, "book 1 not found on shelf 2"},
		{"CreateBook", `{"shelf":"2","book":{"title":"Cosmos","author":"Carl Sagan","genre":"GENRE_SCIENCE","tags":["space"]}}`, codes.OK, `"id":"4"`},
		{"CreateBook", `{"shelf":"2","book":{"title":"Cosmos","author":"Carl Sagan"}}`, codes.AlreadyExists, "already"},
		{"CreateBook", `{"shelf":"2","book":{"author":"Nobody"}}`, codes.InvalidArgument, "book.title is required"},
		{"CreateBook", `{"shelf":"2","book":{"title":"T","genre":42}}`, codes.InvalidArgument, "42 is not a Genre"},
		{"CreateBook", `{"shelf":"2"}`, codes.InvalidArgument, "book is required"},
		{"UpdateBook", `{"shelf":"1","book":{"id":"1","pages":305},"updateMask":"pages"}`, codes.OK, `"pages":305`},
		{"UpdateBook", `{"shelf":"1","book":{"id":"1","title":"New"}}`, codes.OK, `"title":"New"`},
		{"UpdateBook", `{"shelf":"1","book":{"id":"1"},"updateMask":"title"}`, codes.InvalidArgument, "must not be empty"},
		{"UpdateBook", `{"shelf":"1","book":{"id":"1"},"updateMask":"publication"}`, codes.InvalidArgument, "cannot be updated"},
		{"UpdateBook", `{"shelf":"1","book":{"id":"9","title":"x"}}`, codes.NotFound, "book 9 not found"},
		{"GetBook", `{"shelf":"1","book":"1"}`, codes.OK, `"title":"New"`},
		{"PublishBook", `{"shelf":"1","book":"1","publisher":"Ace"}`, codes.OK, `"edition":1`},
		{"PublishBook", `{"shelf":"1","book":"1","publisher":"Ace"}`, codes.FailedPrecondition, "already published by Ace"},
		{"PublishBook", `{"shelf":"1","book":"1"}`, codes.InvalidArgument, "publisher is required"},
		{"DeleteBook", `{"shelf":"1","book":"1"}`, codes.OK, `{}`},
		{"DeleteBook", `{"shelf":"1","book":"1"}`, codes.NotFound, "book 1 not found"},
		{"DeleteShelf", `{"shelf":"2"}`, codes.OK, `{}`},
		{"GetShelf", `{"shelf":"2"}`, codes.NotFound, "shelf 2 not found"},
	}
	for i, tt := range tests {
		got, err := call(t, cc, tt.method, tt.req)
		if code := status.Code(err); code != tt.code {
			t.Fatalf("#%d %s %s: got code %v (%v); want %v", i, tt.method, tt.req, code, err, tt.code)
		}
		if err != nil {
			got = status.Convert(err).Message()
		}
		if !strings.Contains(strings.ReplaceAll(got, " ", ""), strings.ReplaceAll(tt.want, " ", "")) {
			t.Errorf("#%d %s %s: got %s; want it to contain %s", i, tt.method, tt.req, got, tt.want)
		}
	}
}

// watch runs WatchBooks and returns the titles received and the final error.
func watch(t *testing.T, cc *grpc.ClientConn, reqJSON string) ([]string, error) {
	t.Helper()
	md := method("WatchBooks")
	req := dynamicpb.NewMessage(md.Input())
	if err := protojson.Unmarshal([]byte(reqJSON), req); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/"+ServiceName+"/WatchBooks")
	if err != nil {
		return nil, err
	}
	if err := st.SendMsg(req); err != nil {
		return nil, err
	}
	st.CloseSend()
	var titles []string
	for {
		b := dynamicpb.NewMessage(md.Output())
		if err := st.RecvMsg(b); err != nil {
			if errors.Is(err, io.EOF) {
				return titles, nil
			}
			return titles, err
		}
		titles = append(titles, getStr(b, "title"))
	}
}

func TestWatchBooks(t *testing.T) {
	cc := start(t)
	begin := time.Now()
	got, err := watch(t, cc, `{"shelf":"1","interval":"0.05s"}`)
	if err != nil || strings.Join(got, "|") != "The Left Hand of Darkness|Dune" {
		t.Fatalf("got %q, %v; want both fiction titles", got, err)
	}
	if d := time.Since(begin); d < 50*time.Millisecond {
		t.Errorf("stream took %v; want at least one 50ms interval", d)
	}
	if _, err := watch(t, cc, `{"shelf":"8"}`); status.Code(err) != codes.NotFound {
		t.Errorf("missing shelf: got %v; want NotFound", err)
	}
	if _, err := watch(t, cc, `{"shelf":"1","interval":"5s"}`); status.Code(err) != codes.InvalidArgument {
		t.Errorf("long interval: got %v; want InvalidArgument", err)
	}
}

func TestHealthAndReflection(t *testing.T) {
	cc := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hr, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: ServiceName})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: got %v, %v; want SERVING", hr, err)
	}
	rc, err := rpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(req *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
		if err := rc.Send(req); err != nil {
			t.Fatal(err)
		}
		resp, err := rc.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	list := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	var names []string
	for _, s := range list.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !strings.Contains(strings.Join(names, ","), ServiceName) {
		t.Errorf("services: got %v; want %s among them", names, ServiceName)
	}
	fr := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: ServiceName}})
	fds := fr.GetFileDescriptorResponse().GetFileDescriptorProto()
	if len(fds) == 0 {
		t.Fatalf("file for %s: got %v", ServiceName, fr)
	}
	var fd descriptorpb.FileDescriptorProto
	if err := proto.Unmarshal(fds[0], &fd); err != nil || fd.GetName() != "bookstore/v1/bookstore.proto" {
		t.Errorf("file: got %q, %v; want bookstore/v1/bookstore.proto", fd.GetName(), err)
	}
}

// TestConcurrentCreates runs under -race: ids stay unique.
func TestConcurrentCreates(t *testing.T) {
	cc := start(t)
	const n = 20
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			got, err := call(t, cc, "CreateShelf", `{"shelf":{"theme":"T`+string(rune('a'+i))+`"}}`)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- got
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for s := range ids {
		if seen[s] {
			t.Errorf("duplicate shelf %s", s)
		}
		seen[s] = true
	}
	if len(seen) != n {
		t.Errorf("got %d shelves; want %d", len(seen), n)
	}
}

// TestInterceptor: the handlers honour a server's unary interceptor and
// report the full method name.
func TestInterceptor(t *testing.T) {
	var got []string
	var mu sync.Mutex
	icpt := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		mu.Lock()
		got = append(got, info.FullMethod)
		mu.Unlock()
		if _, ok := info.Server.(*store); !ok {
			t.Errorf("info.Server: got %T; want *store", info.Server)
		}
		return h(ctx, req)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(grpc.UnaryInterceptor(icpt))
	go s.Serve(ln)
	defer s.Stop()
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := call(t, cc, "GetShelf", `{"shelf":"1"}`); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "/bookstore.v1.Bookstore/GetShelf" {
		t.Errorf("got %v; want [/bookstore.v1.Bookstore/GetShelf]", got)
	}
}
