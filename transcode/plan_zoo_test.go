package transcode

//go:generate protoc -I testdata/codec --include_imports --descriptor_set_out=testdata/codec/zoo.pb testdata/codec/zoo.proto

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/anypb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

// zoo is the test zoo: testdata/codec/zoo.proto plus the protobuf
// conformance messages (TestAllTypesProto3, TestAllTypesProto2 and its
// kin, TestAllTypesEdition2023), with their dynamic types.
type zoo struct {
	files *protoregistry.Files
	types *dynamicpb.Types
}

var (
	zooOnce sync.Once
	zooVal  *zoo
	zooErr  error
)

func loadZoo(t testing.TB) *zoo {
	t.Helper()
	zooOnce.Do(func() { zooVal, zooErr = buildZoo() })
	if zooErr != nil {
		t.Fatal(zooErr)
	}
	return zooVal
}

func buildZoo() (*zoo, error) {
	raw, err := os.ReadFile("testdata/codec/zoo.pb")
	if err != nil {
		return nil, err
	}
	conf, err := conformanceDescriptor("test_messages_proto3.pb.go")
	if err != nil {
		return nil, err
	}
	conf2, err := conformanceDescriptor("test_messages_proto2.pb.go")
	if err != nil {
		return nil, err
	}
	conf23, err := conformanceDescriptor("editions/test_messages_edition2023.pb.go")
	if err != nil {
		return nil, err
	}
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{conf, conf2, conf23}}
	confSet, err := proto.Marshal(set)
	if err != nil {
		return nil, err
	}
	files, err := LoadDescriptorSets(raw, confSet)
	if err != nil {
		return nil, err
	}
	return &zoo{files: files, types: dynamicpb.NewTypes(files)}, nil
}

// conformanceDescriptor reads the raw descriptor of a conformance test
// proto (test_messages_proto3.proto, ..._proto2.proto) out of the protobuf
// module's generated (and internal, so not importable) Go file.
func conformanceDescriptor(goFile string) (*descriptorpb.FileDescriptorProto, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "google.golang.org/protobuf").Output()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "internal/testprotos/conformance", goFile)
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	var raw strings.Builder
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasSuffix(vs.Names[0].Name, "_rawDesc") {
			return true
		}
		ast.Inspect(vs.Values[0], func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				raw.WriteString(s)
			}
			return true
		})
		return false
	})
	fdp := &descriptorpb.FileDescriptorProto{}
	if err := proto.Unmarshal([]byte(raw.String()), fdp); err != nil {
		return nil, err
	}
	dropMessageSets(fdp.MessageType) // protodesc refuses them; they have no JSON form anyway
	if _, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles); err != nil {
		return nil, err
	}
	return fdp, nil
}

func (z *zoo) md(t testing.TB, name string) protoreflect.MessageDescriptor {
	d, err := z.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		panic(err)
	}
	return d.(protoreflect.MessageDescriptor)
}

func (z *zoo) schema(t testing.TB, opts Options) *Schema {
	t.Helper()
	s, err := NewSchema(z.files, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dropMessageSets(ms []*descriptorpb.DescriptorProto) {
	for _, m := range ms {
		if m.GetOptions().GetMessageSetWireFormat() {
			m.Options.MessageSetWireFormat = nil
			for _, r := range m.ExtensionRange {
				r.End = proto.Int32(min(r.GetEnd(), 1<<29))
			}
		}
		dropMessageSets(m.NestedType)
	}
}
