package transcode

import (
	"errors"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func setOf(t *testing.T, files ...*descriptorpb.FileDescriptorProto) []byte {
	t.Helper()
	b, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: files})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadDescriptorSets(t *testing.T) {
	zooSet, err := os.ReadFile("testdata/codec/zoo.pb")
	if err != nil {
		t.Fatal(err)
	}
	ts := protodesc.ToFileDescriptorProto(timestamppb.File_google_protobuf_timestamp_proto)
	user := &descriptorpb.FileDescriptorProto{
		Name: proto.String("user.proto"), Package: proto.String("u"), Syntax: proto.String("proto3"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("U"),
			Field: []*descriptorpb.FieldDescriptorProto{{
				Name: proto.String("at"), JsonName: proto.String("at"), Number: proto.Int32(1),
				Label:    descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
				Type:     descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(),
				TypeName: proto.String(".google.protobuf.Timestamp"),
			}},
		}},
	}
	changed := proto.Clone(ts).(*descriptorpb.FileDescriptorProto)
	changed.Package = proto.String("other")
	for _, c := range []struct {
		name string
		sets [][]byte
		ok   bool
	}{
		{"zoo", [][]byte{zooSet}, true},
		{"zoo twice", [][]byte{zooSet, zooSet}, true},
		{"import from the Go registry", [][]byte{setOf(t, user)}, true},
		{"import in another set", [][]byte{setOf(t, user), setOf(t, ts)}, true},
		{"same name, other content", [][]byte{setOf(t, ts), setOf(t, changed)}, false},
		{"garbage", [][]byte{[]byte("\xff\xff")}, false},
		{"missing import", [][]byte{setOf(t, &descriptorpb.FileDescriptorProto{Name: proto.String("a.proto"), Dependency: []string{"nope.proto"}})}, false},
	} {
		files, err := LoadDescriptorSets(c.sets...)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v; want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrDescriptor) {
				t.Errorf("%s: err %v; want ErrDescriptor", c.name, err)
			}
			continue
		}
		s, err := NewSchema(files, Options{})
		if err != nil {
			t.Fatalf("%s: NewSchema: %v", c.name, err)
		}
		if s.Files() != files {
			t.Errorf("%s: Files() is not the registry given", c.name)
		}
		if s.Plan("no.such.Message") != nil {
			t.Errorf("%s: Plan of an unknown message is not nil", c.name)
		}
		if c.name == "import from the Go registry" {
			p := s.Plan("u.U")
			wire, err := p.AppendWire(nil, []byte(`{"at":"2024-01-01T00:00:00Z"}`))
			if err != nil || len(wire) == 0 {
				t.Errorf("u.U: %x %v", wire, err)
			}
			if p.Descriptor().FullName() != protoreflect.FullName("u.U") {
				t.Errorf("Descriptor: %v", p.Descriptor().FullName())
			}
		}
	}
}
