package transcode

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"
)

// The descriptor sets under testdata/routes are compiled from the protos
// beside them; regenerate them with go generate.
//go:generate protoc -I testdata/routes/proto -I ../proto -I /usr/include --include_imports --descriptor_set_out=testdata/routes/routes.pb routes/v1/routes.proto
//go:generate protoc -I testdata/routes/proto -I ../proto -I /usr/include --include_imports --descriptor_set_out=testdata/routes/conflict.pb routes/v1/conflict.proto

func loadRouteFiles(t testing.TB, name string) (*protoregistry.Files, *Schema) {
	t.Helper()
	raw, err := os.ReadFile("testdata/routes/" + name)
	if err != nil {
		t.Fatal(err)
	}
	files, err := LoadDescriptorSets(raw)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := NewSchema(files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return files, schema
}

func loadTestRouter(t testing.TB, opts RouterOptions) *Router {
	t.Helper()
	files, schema := loadRouteFiles(t, "routes.pb")
	r, err := NewRouter(files, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMatchRoutes(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	tests := []struct {
		method, path string
		rpc          string
		vars         map[string]string
	}{
		{"GET", "/v1/things/abc", "Get", map[string]string{"name": "abc"}},
		{"GET", "/v1/things/abc?x=1", "Get", map[string]string{"name": "abc"}},
		{"GET", "/v1/ids/42", "Get", map[string]string{"id": "42"}},
		{"POST", "/v1/things/abc:rename", "Get", map[string]string{"name": "abc"}},
		{"POST", "/v1/things/abc", "CreateInner", map[string]string{"name": "abc"}},
		{"GET", "/v1/things/special", "GetLiteral", nil},
		{"GET", "/v1/things/spec%69al", "GetLiteral", nil},
		{"GET", "/v1/things/a/inner/7", "GetNested", map[string]string{"name": "a", "inner.id": "7"}},
		{"PATCH", "/v1/things/a/inner/7", "Update", map[string]string{"name": "a", "inner.id": "7"}},
		{"GET", "/v1/shelves/1/books/2", "GetPath", map[string]string{"name": "shelves/1/books/2"}},
		{"GET", "/v1/files/a/b/c.txt", "GetDeep", map[string]string{"name": "a/b/c.txt"}},
		{"GET", "/v1/files/x", "GetDeep", map[string]string{"name": "x"}},
		{"GET", "/v1/files", "GetDeep", map[string]string{"name": ""}},
		// a literal in an earlier segment beats a later one
		{"GET", "/v1/things/wild", "Get", map[string]string{"name": "wild"}},
		{"GET", "/v1/x/wild", "GetWild", nil},
		{"LIST", "/v1/things", "List", nil},
		{"POST", "/v1/upload", "Upload", nil},
		{"PUT", "/v1/upload/f", "UploadField", map[string]string{"name": "f"}},
		{"GET", "/v1/things/abc:watch", "Watch", map[string]string{"name": "abc"}},
		{"GET", "/v1/things/a:b:watch", "Watch", map[string]string{"name": "a:b"}},
		{"GET", "/v1/things/a:b", "Get", map[string]string{"name": "a:b"}},
		// no GET has the verb: the whole segment is the value
		{"GET", "/v1/things/abc:rename", "Get", map[string]string{"name": "abc:rename"}},
		{"GET", "/", "Root", nil},
		{"POST", "/routes.v1.Routes/NoRule", "NoRule", nil},
		{"POST", "/routes.v1.Routes/Get", "Get", nil},
		// single-segment variables decode everything, %2F included
		{"GET", "/v1/things/a%2Fb%20c", "Get", map[string]string{"name": "a/b c"}},
		// multi-segment variables keep %2F escaped
		{"GET", "/v1/files/a%2Fb/c%20d", "GetDeep", map[string]string{"name": "a%2Fb/c d"}},
		{"GET", "/v1/shelves/a%2fb/books/%41", "GetPath", map[string]string{"name": "shelves/a%2fb/books/A"}},
		{"GET", "/v1/things/%3Awatch", "Get", map[string]string{"name": ":watch"}},
		{"GET", "/v1/things/abc:", "Get", map[string]string{"name": "abc:"}},
		{"GET", "/v1/things/a+b", "Get", map[string]string{"name": "a+b"}},
		{"GET", "/v1/things/%252F", "Get", map[string]string{"name": "%2F"}},
		{"GET", "/v1/things/%E2%82%AC%00", "Get", map[string]string{"name": "€\x00"}},
		{"GET", "/v1/files/a%252Fb/%2f/%2F%2E", "GetDeep", map[string]string{"name": "a%2Fb/%2f/%2F."}},
		{"GET", "/v1/files/%2F", "GetDeep", map[string]string{"name": "%2F"}},
		{"GET", "/v1/%66iles/x", "GetDeep", map[string]string{"name": "x"}},
	}
	var m Match
	for _, tt := range tests {
		if err := r.Match(tt.method, []byte(tt.path), &m); err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.path, err)
			continue
		}
		if got := string(m.Route.Method.Name()); got != tt.rpc {
			t.Errorf("%s %s: got %s; want %s", tt.method, tt.path, got, tt.rpc)
		}
		for k, want := range tt.vars {
			got, ok := m.AppendVar(nil, k)
			if !ok || string(got) != want {
				t.Errorf("%s %s: var %s = %q, %v; want %q", tt.method, tt.path, k, got, ok, want)
			}
		}
		if len(m.Route.vars) != len(tt.vars) {
			t.Errorf("%s %s: %d vars; want %d", tt.method, tt.path, len(m.Route.vars), len(tt.vars))
		}
	}
}

func TestMatchErrors(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v2/nothing", 404, ""},
		{"GET", "/v1/things/a/b", 404, ""},
		{"GET", "/v1/things/", 404, ""},
		{"GET", "/v1//wild", 404, ""},
		{"GET", "relative", 404, ""},
		{"GET", "", 404, ""},
		{"DELETE", "/v1/things/abc", 405, "GET, POST"},
		{"GET", "/v1/upload", 405, "POST"},
		{"GET", "/routes.v1.Routes/NoRule", 405, "POST"},
		{"POST", "/v1/things", 405, "LIST"},
		{"GET", "/v1/things/a%2", 400, ""},
		{"GET", "/v1/things/a%zz", 400, ""},
		{"GET", "/v1/things/%", 400, ""},
	}
	var m Match
	for _, tt := range tests {
		err := r.Match(tt.method, []byte(tt.path), &m)
		var he *HTTPError
		if !errors.As(err, &he) {
			t.Errorf("%s %s: got %v; want HTTPError %d", tt.method, tt.path, err, tt.status)
			continue
		}
		if he.Status != tt.status || he.Allow != tt.allow {
			t.Errorf("%s %s: got %d %v; want %d %v", tt.method, tt.path, he.Status, he.Allow, tt.status, tt.allow)
		}
	}
}

func TestRouterConflict(t *testing.T) {
	files, schema := loadRouteFiles(t, "conflict.pb")
	_, err := NewRouter(files, schema, RouterOptions{})
	if !errors.Is(err, ErrRouteConflict) {
		t.Fatalf("got %v; want ErrRouteConflict", err)
	}
	if !strings.Contains(err.Error(), "/routes.v1.Conflict/A") || !strings.Contains(err.Error(), "/routes.v1.Conflict/B") {
		t.Errorf("error %q does not name both RPCs", err)
	}
}

func TestRouterLookupAndRoutes(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	rt := r.Lookup("/routes.v1.Routes/Get")
	if rt == nil || !rt.Default || rt.Body != "*" {
		t.Fatalf("Lookup: got %+v; want the default route", rt)
	}
	if r.Lookup("/routes.v1.Routes/Nope") != nil {
		t.Error("Lookup of an unknown method: got a route")
	}
	infos := r.Routes()
	var lines []string
	for _, ri := range infos {
		lines = append(lines, ri.String())
	}
	if !slices.IsSortedFunc(infos, func(a, b RouteInfo) int { return strings.Compare(a.Template, b.Template) }) {
		t.Errorf("Routes not sorted:\n%s", strings.Join(lines, "\n"))
	}
	want := []string{
		"GET /v1/things/{name} -> routes.v1.Routes.Get",
		"POST /v1/things/{name}:rename -> routes.v1.Routes.Get (body \"*\")",
		"POST /routes.v1.Routes/NoRule -> routes.v1.Routes.NoRule (body \"*\")",
		"LIST /v1/things -> routes.v1.Routes.List",
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("Routes lacks %q; got:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	// 15 methods with a default route each, plus 16 rule bindings.
	if len(infos) != 31 {
		t.Errorf("got %d routes; want 31:\n%s", len(infos), strings.Join(lines, "\n"))
	}
}

// TestMethodIndex: every route of a method, the default one included,
// carries the method's place in Methods.
func TestMethodIndex(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	ms := r.Methods()
	if len(ms) != 15 {
		t.Fatalf("Methods: %d; want 15", len(ms))
	}
	for _, rt := range r.All() {
		if i := rt.MethodIndex; i < 0 || i >= len(ms) || ms[i] != rt.Method {
			t.Errorf("%s: MethodIndex %d names %v", rt.Info(), i, ms[min(max(i, 0), len(ms)-1)].FullName())
		}
	}
	for i, md := range ms {
		rt := r.Lookup("/" + string(md.Parent().FullName()) + "/" + string(md.Name()))
		if rt == nil || rt.MethodIndex != i {
			t.Errorf("%s: default route %v; want MethodIndex %d", md.FullName(), rt, i)
		}
	}
}

// TestMatchForgets: a reused Match that fails to match has no route,
// not the last one it matched.
func TestMatchForgets(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	var m Match
	if err := r.Match("GET", []byte("/v1/things/x"), &m); err != nil || m.Route == nil {
		t.Fatalf("Match: %v, %v", err, m.Route)
	}
	if err := r.Match("GET", []byte("/nowhere"), &m); err == nil || m.Route != nil {
		t.Errorf("no route: err %v, Route %v; want an error and nil", err, m.Route != nil)
	}
}

func TestRouteFlags(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	tests := []struct {
		method, path        string
		httpBodyIn, bodyOut bool
		streaming           bool
	}{
		{"POST", "/v1/upload", true, true, false},
		{"PUT", "/v1/upload/x", true, false, false},
		{"GET", "/v1/download/x", false, true, false},
		{"GET", "/v1/things/x:watch", false, false, true},
		{"GET", "/v1/things/x", false, false, false},
	}
	var m Match
	for _, tt := range tests {
		if err := r.Match(tt.method, []byte(tt.path), &m); err != nil {
			t.Fatal(err)
		}
		rt := m.Route
		if rt.HTTPBodyRequest != tt.httpBodyIn || rt.HTTPBodyResponse != tt.bodyOut || rt.ServerStreaming != tt.streaming {
			t.Errorf("%s %s: got in=%v out=%v stream=%v; want %v %v %v", tt.method, tt.path,
				rt.HTTPBodyRequest, rt.HTTPBodyResponse, rt.ServerStreaming, tt.httpBodyIn, tt.bodyOut, tt.streaming)
		}
	}
}

// TestRouterConcurrent shares one Router between goroutines, each with its
// own Match (run with -race).
func TestRouterConcurrent(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m Match
			for i := 0; i < 200; i++ {
				if err := r.Match("GET", []byte("/v1/things/a%20b/inner/7"), &m); err != nil {
					errs <- err
					return
				}
				if _, err := m.AppendRequest(nil, []byte("inner.name=x&nums=1"), nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
