package transcode

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

func routeMethod(t *testing.T, files *protoregistry.Files, name protoreflect.FullName) protoreflect.MethodDescriptor {
	t.Helper()
	d, err := files.FindDescriptorByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return d.(protoreflect.MethodDescriptor)
}

var wantGetRules = []httpRule{
	{method: "GET", path: "/v1/things/{name}"},
	{method: "GET", path: "/v1/ids/{id}"},
	{method: "POST", path: "/v1/things/{name}:rename", body: "*"},
}

func TestMethodRules(t *testing.T) {
	files, _ := loadRouteFiles(t, "routes.pb")
	tests := []struct {
		method protoreflect.FullName
		want   []httpRule
	}{
		{"routes.v1.Routes.Get", wantGetRules},
		{"routes.v1.Routes.List", []httpRule{{method: "LIST", path: "/v1/things"}}},
		{"routes.v1.Routes.Download", []httpRule{{method: "GET", path: "/v1/download/{name}", responseBody: "file"}}},
		{"routes.v1.Routes.NoRule", nil},
	}
	for _, tt := range tests {
		got, err := methodRules(routeMethod(t, files, tt.method))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.method, got, err, tt.want)
		}
	}
}

// TestMethodRulesResolved reads the rule when the options were decoded with
// the google.api.http extension known (as when a generated annotations
// package is linked in), not as unknown bytes.
func TestMethodRulesResolved(t *testing.T) {
	files, _ := loadRouteFiles(t, "routes.pb")
	xd, err := files.FindDescriptorByName("google.api.http")
	if err != nil {
		t.Fatal(err)
	}
	types := new(protoregistry.Types)
	if err := types.RegisterExtension(dynamicpb.NewExtensionType(xd.(protoreflect.ExtensionDescriptor))); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/routes/routes.pb")
	if err != nil {
		t.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	resolved, err := protodesc.NewFiles(&set)
	if err != nil {
		t.Fatal(err)
	}
	md := routeMethod(t, resolved, "routes.v1.Routes.Get")
	opts := md.Options().(*descriptorpb.MethodOptions)
	n := 0
	opts.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.IsExtension() && fd.Number() == protoreflect.FieldNumber(httpRuleField) {
			n++
		}
		return true
	})
	if n != 1 || len(opts.ProtoReflect().GetUnknown()) != 0 {
		t.Fatalf("extension not resolved: %d set, %d unknown bytes", n, len(opts.ProtoReflect().GetUnknown()))
	}
	got, err := methodRules(md)
	if err != nil || !reflect.DeepEqual(got, wantGetRules) {
		t.Errorf("got %+v, %v; want %+v", got, err, wantGetRules)
	}
}

func TestHTTPRuleMerge(t *testing.T) {
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), []byte(s))
	}
	custom := str(8, string(append(str(1, "HEAD"), str(2, "/h")...)))
	var r httpRule
	b := append(append(append(str(2, "/a"), str(7, "x")...), protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1)...), custom...)
	if err := r.merge(b, true); err != nil || r.method != "HEAD" || r.path != "/h" || r.body != "x" {
		t.Errorf("merge: got %+v, %v; want HEAD /h body x", r, err)
	}
	nested := str(11, string(str(11, string(str(2, "/n")))))
	for _, bad := range [][]byte{{0x12, 0x05, 'a'}, {0x80}, nested, str(8, "\x0a\x09")} {
		if err := new(httpRule).merge(bad, true); err == nil {
			t.Errorf("merge(%q): got nil; want an error", bad)
		}
	}
}

func TestRuleRouteErrors(t *testing.T) {
	files, schema := loadRouteFiles(t, "routes.pb")
	md := routeMethod(t, files, "routes.v1.Routes.Get")
	for _, rule := range []httpRule{
		{},
		{method: "GET"},
		{method: "GET", path: "v1"},
		{method: "GET", path: "/v1/{nope}"},
		{method: "GET", path: "/v1/{inner}"},
		{method: "GET", path: "/v1/{labels}"},
		{method: "GET", path: "/v1/{nums}"},
		{method: "GET", path: "/v1/{name.x}"},
		{method: "GET", path: "/v1/{inners.name}"},
		{method: "POST", path: "/v1", body: "nope"},
		{method: "POST", path: "/v1", body: "labels"},
		{method: "POST", path: "/v1/{name}", body: "name"},
		{method: "GET", path: "/v1", responseBody: "nope"},
	} {
		_, err := newRuleRoute(schema, md, rule)
		if !errors.Is(err, ErrHTTPRule) {
			t.Errorf("%+v: got %v; want ErrHTTPRule", rule, err)
		}
	}
	for _, rule := range []httpRule{
		{method: "GET", path: "/v1/{inner.child.child.id}"},
		{method: "GET", path: "/v1/{ts}/{wi64}/{color}"},
		{method: "POST", path: "/v1/{inner.id}", body: "inner"},
	} {
		if _, err := newRuleRoute(schema, md, rule); err != nil {
			t.Errorf("%+v: %v", rule, err)
		}
	}
}
