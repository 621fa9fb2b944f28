package echopb_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/straitgw/strait/internal/echopb"
)

// TestGeneratedUpToDate recompiles proto/strait/test/v1/echo.proto and
// compares it with the committed e2e/testdata/echo.pb and with the file
// compiled into this package, so an edited .proto without
// scripts/protos.sh fails. It skips where protoc is missing, except in CI,
// which installs it.
func TestGeneratedUpToDate(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	switch {
	case err != nil && os.Getenv("CI") != "":
		t.Fatal("protoc missing; .ci/run installs it")
	case err != nil:
		t.Skip("protoc not installed")
	}
	out := filepath.Join(t.TempDir(), "echo.pb")
	cmd := exec.Command(protoc, "-I", "../../proto", "-I", "/usr/include", "--include_imports",
		"--descriptor_set_out="+out, "strait/test/v1/echo.proto")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, msg)
	}
	var want, committed descriptorpb.FileDescriptorSet
	for p, m := range map[string]*descriptorpb.FileDescriptorSet{out: &want, "../../e2e/testdata/echo.pb": &committed} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(b, m); err != nil {
			t.Fatal(err)
		}
	}
	if !proto.Equal(&committed, &want) {
		t.Errorf("e2e/testdata/echo.pb is stale: run scripts/protos.sh")
	}
	compiled := protodesc.ToFileDescriptorProto(echopb.File_strait_test_v1_echo_proto)
	for _, f := range want.File {
		if f.GetName() == compiled.GetName() {
			f.SourceCodeInfo = nil
			if !proto.Equal(f, compiled) {
				t.Errorf("internal/echopb is stale: run scripts/protos.sh")
			}
			return
		}
	}
	t.Errorf("%s not in protoc's output", compiled.GetName())
}
