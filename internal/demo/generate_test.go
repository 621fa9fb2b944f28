package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// TestDescriptorSetUpToDate recompiles the .proto sources with the go:generate
// command and compares them with the committed bookstore.pb, so an edited
// .proto without a regenerated set fails. It skips where protoc is missing,
// except in CI, which installs it.
func TestDescriptorSetUpToDate(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	_, wkt := os.Stat("/usr/include/google/protobuf/timestamp.proto")
	switch {
	case (err != nil || wkt != nil) && os.Getenv("CI") != "":
		t.Fatal("protoc or /usr/include/google/protobuf missing; .ci/run installs them")
	case err != nil || wkt != nil:
		t.Skip("protoc or its well-known type protos not installed")
	}
	out := filepath.Join(t.TempDir(), "bookstore.pb")
	cmd := exec.Command(protoc, "-I", "../../proto", "-I", "/usr/include", "--include_imports",
		"--descriptor_set_out="+out, "bookstore/v1/bookstore.proto")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want, have descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(got, &want); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(descriptorSet, &have); err != nil {
		t.Fatal(err)
	}
	// Compared as messages: another protoc may order bytes differently.
	if !proto.Equal(&have, &want) {
		t.Errorf("bookstore.pb is stale: run go generate ./internal/demo")
	}
}
