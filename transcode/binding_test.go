package transcode

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

type routeBindCase struct {
	method, path, query, body, ctype string
	want                             string // protojson of the request message
}

var routeBindCases = []routeBindCase{
	{method: "GET", path: "/v1/things/abc", query: "id=5&color=COLOR_RED", want: `{"name":"abc","id":"5","color":"COLOR_RED"}`},
	{method: "GET", path: "/v1/things/abc", query: "inner.child.name=x&inner.id=3&inner.color=2",
		want: `{"name":"abc","inner":{"id":"3","color":"COLOR_BLUE","child":{"name":"x"}}}`},
	{method: "GET", path: "/v1/things/abc", query: "nums=1&nums=-2&tags=a&tags=b&colors=1&colors=COLOR_BLUE",
		want: `{"name":"abc","nums":[1,-2],"tags":["a","b"],"colors":["COLOR_RED","COLOR_BLUE"]}`},
	{method: "GET", path: "/v1/things/abc", query: "camelCaseField=v&&flag=true&ratio=-Infinity&fl=-1.25",
		want: `{"name":"abc","camelCaseField":"v","flag":true,"ratio":"-Infinity","fl":-1.25}`},
	{method: "GET", path: "/v1/things/abc", query: "camel_case_field=w&data=aGk_&opt=0",
		want: `{"name":"abc","camelCaseField":"w","data":"aGk/","opt":0}`},
	{method: "GET", path: "/v1/things/abc", query: "data=aGk%2F",
		want: `{"name":"abc","data":"aGk/"}`},
	{method: "GET", path: "/v1/things/abc", query: "data=aGVsbG8",
		want: `{"name":"abc","data":"aGVsbG8="}`},
	{method: "GET", path: "/v1/things/abc",
		query: "u32=4294967295&s32=-5&s64=-9&f32=7&f64=8&sf32=-3&sf64=-4&u64=18446744073709551615",
		want:  `{"name":"abc","u32":4294967295,"s32":-5,"s64":"-9","f32":7,"f64":"8","sf32":-3,"sf64":"-4","u64":"18446744073709551615"}`},
	{method: "GET", path: "/v1/things/abc", query: "ts=2017-01-15T01:30:15.01Z&dur=-1.5s&mask=foo.barBaz,qux",
		want: `{"name":"abc","ts":"2017-01-15T01:30:15.010Z","dur":"-1.500s","mask":"foo.barBaz,qux"}`},
	{method: "GET", path: "/v1/things/abc", query: "ts=2017-01-15T01:30:15%2B01:00&dur=3s",
		want: `{"name":"abc","ts":"2017-01-15T00:30:15Z","dur":"3s"}`},
	{method: "GET", path: "/v1/things/abc", query: "wi64=12&wstr=hello&wbool=false",
		want: `{"name":"abc","wi64":"12","wstr":"hello","wbool":false}`},
	{method: "GET", path: "/v1/things/special", query: "name=a+b%2Bc%20d&inner.name=%E2%82%AC",
		want: `{"name":"a b+c d","inner":{"name":"€"}}`},
	{method: "GET", path: "/v1/ids/-42", want: `{"id":"-42"}`},
	{method: "GET", path: "/v1/things/abc", query: "labels[a]=x&labels%5Bb.c%5D=y+z&labels[]=e",
		want: `{"name":"abc","labels":{"a":"x","b.c":"y z","":"e"}}`},
	{method: "GET", path: "/v1/things/a%2Fb", want: `{"name":"a/b"}`},
	{method: "GET", path: "/v1/files/a%2Fb/c%20d", want: `{"name":"a%2Fb/c d"}`},
	{method: "GET", path: "/v1/things/n/inner/7", query: "inner.name=q",
		want: `{"name":"n","inner":{"id":"7","name":"q"}}`},
	{method: "POST", path: "/v1/things/abc", body: `{"name":"in","id":"3"}`, query: "flag=1",
		want: `{"name":"abc","flag":true,"inner":{"name":"in","id":"3"}}`},
	{method: "PATCH", path: "/v1/things/n/inner/7", body: `{"id":"99","name":"x"}`,
		want: `{"name":"n","inner":{"id":"7","name":"x"}}`},
	{method: "POST", path: "/v1/things/abc:rename", body: `{"name":"body","id":"4"}`,
		want: `{"name":"abc","id":"4"}`},
	{method: "POST", path: "/routes.v1.Routes/NoRule", body: `{"name":"x","nums":[1,2]}`,
		want: `{"name":"x","nums":[1,2]}`},
	{method: "POST", path: "/routes.v1.Routes/NoRule", body: " \n", want: `{}`},
	{method: "GET", path: "/v1/things/abc", body: `ignored`, want: `{"name":"abc"}`},
}

func routeTestMessage(t *testing.T, files *protoregistry.Files, name protoreflect.FullName) *dynamicpb.Message {
	t.Helper()
	d, err := files.FindDescriptorByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
}

// checkBoundWire decodes wire as the route's input and compares it with want.
func checkBoundWire(t *testing.T, files *protoregistry.Files, rt *Route, wire []byte, want string) {
	t.Helper()
	got := routeTestMessage(t, files, rt.Method.Input().FullName())
	if err := proto.Unmarshal(wire, got); err != nil {
		t.Fatalf("%s: unmarshal: %v", rt.Template, err)
	}
	exp := routeTestMessage(t, files, rt.Method.Input().FullName())
	if err := (protojson.UnmarshalOptions{Resolver: dynamicpb.NewTypes(files)}).Unmarshal([]byte(want), exp); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !proto.Equal(got, exp) {
		t.Errorf("%s: got %v; want %v", rt.Template, protojson.Format(got), protojson.Format(exp))
	}
}

func TestAppendRequest(t *testing.T) {
	files, schema := loadRouteFiles(t, "routes.pb")
	r, err := NewRouter(files, schema, RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m Match
	for _, c := range routeBindCases {
		if err := r.Match(c.method, []byte(c.path), &m); err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		wire, err := m.AppendRequest([]byte("keep"), []byte(c.query), []byte(c.body))
		if err != nil {
			t.Errorf("%s %s?%s: %v", c.method, c.path, c.query, err)
			continue
		}
		if string(wire[:4]) != "keep" {
			t.Fatalf("dst prefix overwritten")
		}
		checkBoundWire(t, files, m.Route, wire[4:], c.want)
	}
}

func TestAppendRequestHTTPBody(t *testing.T) {
	files, schema := loadRouteFiles(t, "routes.pb")
	r, err := NewRouter(files, schema, RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []routeBindCase{
		{method: "POST", path: "/v1/upload", body: "raw\x00bytes", ctype: "application/octet-stream",
			want: `{"contentType":"application/octet-stream","data":"cmF3AGJ5dGVz"}`},
		{method: "PUT", path: "/v1/upload/f", body: "hi", ctype: "text/plain",
			want: `{"name":"f","file":{"contentType":"text/plain","data":"aGk="}}`},
		{method: "PUT", path: "/v1/upload/f", want: `{"name":"f","file":{}}`},
	}
	var m Match
	for _, c := range tests {
		if err := r.Match(c.method, []byte(c.path), &m); err != nil {
			t.Fatal(err)
		}
		m.ContentType = []byte(c.ctype)
		wire, err := m.AppendRequest(nil, nil, []byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		checkBoundWire(t, files, m.Route, wire, c.want)
	}
}

func TestAppendRequestErrors(t *testing.T) {
	files, schema := loadRouteFiles(t, "routes.pb")
	tests := []struct {
		path, query, body string
		discardOK         bool // accepted with DiscardUnknownQuery
	}{
		{path: "/v1/things/abc", query: "nope=1", discardOK: true},
		{path: "/v1/things/abc", query: "name=x", discardOK: true},
		{path: "/v1/things/abc", query: "inner.nope=1", discardOK: true},
		{path: "/v1/things/abc", query: "inner.=1", discardOK: true},
		{path: "/v1/things/abc", query: "labels=x", discardOK: true},
		{path: "/v1/things/abc", query: "nums[1]=x", discardOK: true},
		{path: "/v1/things/abc", query: "inner[x]=1", discardOK: true},
		{path: "/v1/things/abc", query: "labels[x=1", discardOK: true},
		{path: "/v1/things/abc", query: "inner=x", discardOK: true},
		{path: "/v1/things/abc", query: "inners.name=x", discardOK: true},
		{path: "/v1/things/abc", query: "name.x=1", discardOK: true},
		{path: "/v1/things/abc", query: "id=abc"},
		{path: "/v1/things/abc", query: "id=9223372036854775808"},
		{path: "/v1/things/abc", query: "u32=-1"},
		{path: "/v1/things/abc", query: "nums=1.5"},
		{path: "/v1/things/abc", query: "color=COLOR_GREEN"},
		{path: "/v1/things/abc", query: "flag=yes"},
		{path: "/v1/things/abc", query: "ratio=one"},
		{path: "/v1/things/abc", query: "ts=yesterday"},
		{path: "/v1/things/abc", query: "ts=10000-01-01T00:00:00Z"},
		{path: "/v1/things/abc", query: "dur=1.5"},
		{path: "/v1/things/abc", query: "dur=1.1234567890s"},
		{path: "/v1/things/abc", query: "dur=315576000001s"},
		{path: "/v1/things/abc", query: "wi64=x"},
		{path: "/v1/things/abc", query: "data=!!!"},
		{path: "/v1/things/abc", query: "inner.name=%FF"},
		{path: "/v1/things/abc", query: "id=%zz"},
		{path: "/v1/ids/x"},
		{path: "/v1/things/%FF"},
		{path: "/v1/things/abc:rename", query: "id=1", body: "{}", discardOK: true},
		{path: "/v1/things/abc:rename", body: `{"id":`},
	}
	for _, discard := range []bool{false, true} {
		r, err := NewRouter(files, schema, RouterOptions{DiscardUnknownQuery: discard})
		if err != nil {
			t.Fatal(err)
		}
		var m Match
		for _, c := range tests {
			method := "GET"
			if c.body != "" {
				method = "POST"
			}
			if err := r.Match(method, []byte(c.path), &m); err != nil {
				t.Fatal(err)
			}
			_, err := m.AppendRequest(nil, []byte(c.query), []byte(c.body))
			if discard && c.discardOK {
				if err != nil {
					t.Errorf("discard: %s?%s: %v", c.path, c.query, err)
				}
				continue
			}
			var he *HTTPError
			if err == nil || (c.body == "" && (!errors.As(err, &he) || he.Status != 400)) {
				t.Errorf("%s?%s: got %v; want a 400", c.path, c.query, err)
			}
		}
	}
}

func TestAppendResponse(t *testing.T) {
	files, schema := loadRouteFiles(t, "routes.pb")
	r, err := NewRouter(files, schema, RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp := routeTestMessage(t, files, "routes.v1.Resp")
	if err := protojson.Unmarshal([]byte(`{"name":"n","inner":{"id":"3"}}`), resp); err != nil {
		t.Fatal(err)
	}
	wire, _ := proto.Marshal(resp)
	var m Match
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/v1/things/x", `{"name":"n","inner":{"id":"3"}}`},
		{"POST", "/v1/things/x", `{"id":"3"}`},
	} {
		if err := r.Match(c.method, []byte(c.path), &m); err != nil {
			t.Fatal(err)
		}
		got, err := m.Route.AppendResponse(nil, wire)
		if err != nil || string(got) != c.want {
			t.Errorf("%s %s: got %s, %v; want %s", c.method, c.path, got, err, c.want)
		}
	}
	dl := routeTestMessage(t, files, "routes.v1.DownloadResp")
	if err := protojson.Unmarshal([]byte(`{"name":"n","file":{"contentType":"image/png","data":"iVBO"}}`), dl); err != nil {
		t.Fatal(err)
	}
	wire, _ = proto.Marshal(dl)
	if err := r.Match("GET", []byte("/v1/download/x"), &m); err != nil {
		t.Fatal(err)
	}
	ct, data, err := m.Route.HTTPBody(wire)
	if err != nil || string(ct) != "image/png" || string(data) != "\x89PN" {
		t.Errorf("HTTPBody: got %q %q %v; want image/png", ct, data, err)
	}
}

// TestAppendRequestTypedPath binds path variables of non-string kinds,
// nested below a ':' that is not a verb.
func TestAppendRequestTypedPath(t *testing.T) {
	files, schema := loadRouteFiles(t, "routes.pb")
	md := routeMethod(t, files, "routes.v1.Routes.Get")
	r := &Router{byPath: map[string]*Route{}}
	for _, rule := range []httpRule{
		{method: "GET", path: "/v1/{ts}/{wi64}/{color}/{inner.child.id}/{flag}/{data}/{dur}"},
		{method: "GET", path: "/v2/{name}:go"},
	} {
		rt, err := newRuleRoute(schema, md, rule)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.add(rt); err != nil {
			t.Fatal(err)
		}
	}
	var m Match
	path := "/v1/2017-01-15T01:30:15Z/12/COLOR_BLUE/-3/false/aGk%3D/0.5s"
	if err := r.Match("GET", []byte(path), &m); err != nil {
		t.Fatal(err)
	}
	wire, err := m.AppendRequest(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkBoundWire(t, files, m.Route, wire, `{"ts":"2017-01-15T01:30:15Z","wi64":"12","color":"COLOR_BLUE",`+
		`"inner":{"child":{"id":"-3"}},"flag":false,"data":"aGk=","dur":"0.5s"}`)
	if err := r.Match("GET", []byte("/v1/x/12/COLOR_BLUE/-3/false/aGk/1s"), &m); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AppendRequest(nil, nil, nil); err == nil {
		t.Error("bad timestamp in path: got nil; want an error")
	}
}
