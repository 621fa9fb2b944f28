package transcode

import (
	"encoding/json"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestHTTPStatus(t *testing.T) {
	want := map[uint32]int{0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
		9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401, 17: 500, 1 << 31: 500}
	for code, w := range want {
		if got := HTTPStatus(code); got != w {
			t.Errorf("HTTPStatus(%d): got %d; want %d", code, got, w)
		}
	}
}

func TestAppendStatusJSON(t *testing.T) {
	_, schema := loadRouteFiles(t, "routes.pb")
	innerWire := []byte("\x0a\x01x\x10\x07") // routes.v1.Inner{name: "x", id: 7}, in field order
	br, _ := anypb.New(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "f"}}})
	st, _ := proto.Marshal(&status.Status{Code: 3, Message: "bad", Details: []*anypb.Any{
		{TypeUrl: "type.googleapis.com/routes.v1.Inner", Value: innerWire}, br}})
	tests := []struct {
		name    string
		code    uint32
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
		got := AppendStatusJSON([]byte("x"), tt.code, tt.msg, tt.details, tt.schema)
		if string(got[1:]) != tt.want {
			t.Errorf("%s: got %s; want %s", tt.name, got[1:], tt.want)
		}
		if !json.Valid(got[1:]) {
			t.Errorf("%s: invalid JSON %s", tt.name, got[1:])
		}
	}
}

func TestGRPCMessage(t *testing.T) {
	tests := []struct{ plain, wire string }{
		{"", ""},
		{"plain text", "plain text"},
		{"100%", "100%25"},
		{"é\n", "%C3%A9%0A"},
		{"\x7f~", "%7F~"},
	}
	for _, tt := range tests {
		if got := EncodeGRPCMessage(tt.plain); got != tt.wire {
			t.Errorf("Encode(%q): got %q; want %q", tt.plain, got, tt.wire)
		}
		if got := DecodeGRPCMessage(tt.wire); got != tt.plain {
			t.Errorf("Decode(%q): got %q; want %q", tt.wire, got, tt.plain)
		}
	}
	for in, want := range map[string]string{"%": "%", "%4": "%4", "%zz%41": "%zzA", "a%2fb": "a/b"} {
		if got := DecodeGRPCMessage(in); got != want {
			t.Errorf("Decode(%q): got %q; want %q", in, got, want)
		}
	}
}

func FuzzGRPCMessage(f *testing.F) {
	for _, s := range []string{"", "100%", "%C3%A9", "%", "%zz", "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := DecodeGRPCMessage(EncodeGRPCMessage(s)); got != s {
			t.Fatalf("round trip %q: got %q", s, got)
		}
		enc := EncodeGRPCMessage(s)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Fatalf("%q: encoded %q has byte %#x", s, enc, enc[i])
			}
		}
		_ = DecodeGRPCMessage(s)
		if out := AppendStatusJSON(nil, 2, s, []byte(s), nil); !json.Valid(out) {
			t.Fatalf("%q: invalid JSON %s", s, out)
		}
	})
}
