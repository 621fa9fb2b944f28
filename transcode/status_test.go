package transcode

import (
	"encoding/json"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/straitgw/strait/rpc"
)

func TestAppendStatusJSON(t *testing.T) {
	_, schema := loadRouteFiles(t, "routes.pb")
	innerWire := []byte("\x0a\x01x\x10\x07") // routes.v1.Inner{name: "x", id: 7}, in field order
	br, _ := anypb.New(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "f"}}})
	st, _ := proto.Marshal(&status.Status{Code: 3, Message: "bad", Details: []*anypb.Any{
		{TypeUrl: "type.googleapis.com/routes.v1.Inner", Value: innerWire}, br}})
	tests := []struct {
		name    string
		code    rpc.Code
		msg     string
		details []byte
		schema  *Schema
		want    string
	}{
		{"plain", 5, "no such shelf", nil, nil, `{"code":5,"message":"no such shelf","details":[]}`},
		{"escapes", 2, "a\"b\\c\n\x01\xff€", nil, nil, `{"code":2,"message":"a\"b\\c\n\u0001\ufffd€","details":[]}`},
		{"raw details", 3, "bad", st, nil, `{"code":3,"message":"bad","details":[` +
			`{"@type":"type.googleapis.com/routes.v1.Inner","value":"CgF4EAc="},` +
			`{"@type":"type.googleapis.com/google.rpc.BadRequest","value":"CgMKAWY="}]}`},
		{"schema details", 3, "bad", st, schema, `{"code":3,"message":"bad","details":[` +
			`{"@type":"type.googleapis.com/routes.v1.Inner","name":"x","id":"7"},` +
			`{"@type":"type.googleapis.com/google.rpc.BadRequest","value":"CgMKAWY="}]}`},
		{"garbage details", 13, "", []byte{0xff}, schema, `{"code":13,"message":"","details":[]}`},
	}
	for _, tt := range tests {
		got := AppendStatusJSON([]byte("x"), rpc.Status{Code: tt.code, Message: tt.msg, Details: tt.details}, tt.schema)
		if string(got[1:]) != tt.want {
			t.Errorf("%s: got %s; want %s", tt.name, got[1:], tt.want)
		}
		if !json.Valid(got[1:]) {
			t.Errorf("%s: invalid JSON %s", tt.name, got[1:])
		}
	}
}

// FuzzStatusJSON: any message and details render as valid JSON.
func FuzzStatusJSON(f *testing.F) {
	for _, s := range []string{"", "100%", "%C3%A9", "%", "%zz", "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if out := AppendStatusJSON(nil, rpc.Status{Code: rpc.CodeUnknown, Message: s, Details: []byte(s)}, nil); !json.Valid(out) {
			t.Fatalf("%q: invalid JSON %s", s, out)
		}
	})
}

// TestStatusDetailsWithoutAny: details render through the schema even when
// the user's descriptor set does not carry google/protobuf/any.proto.
func TestStatusDetailsWithoutAny(t *testing.T) {
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("detail.proto"), Package: proto.String("d"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Detail"), Field: []*descriptorpb.FieldDescriptorProto{{
			Name: proto.String("why"), JsonName: proto.String("why"), Number: proto.Int32(1),
			Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
		}}}},
	}
	raw, _ := proto.Marshal(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{fdp}})
	files, err := LoadDescriptorSets(raw)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := NewSchema(files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := proto.Marshal(&status.Status{Code: 3, Details: []*anypb.Any{
		{TypeUrl: "type.googleapis.com/d.Detail", Value: []byte("\x0a\x02no")}}})
	got := AppendStatusJSON(nil, rpc.Status{Code: 3, Message: "bad", Details: st}, schema)
	want := `{"code":3,"message":"bad","details":[{"@type":"type.googleapis.com/d.Detail","why":"no"}]}`
	if string(got) != want {
		t.Fatalf("got %s; want %s", got, want)
	}
}
