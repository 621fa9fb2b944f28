package descriptors

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/transcode"
)

const bookstorePB = "../internal/demo/bookstore.pb"

// reflectionStreams serves the demo bookstore (with v1 reflection) on
// loopback and counts the reflection streams opened on it.
func reflectionStreams(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	count := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if strings.HasSuffix(info.FullMethod, "/ServerReflectionInfo") {
			n.Add(1)
		}
		return h(srv, ss)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := demo.NewServer(grpc.StreamInterceptor(count))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), &n
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func hasService(files *protoregistry.Files) bool {
	_, err := files.FindDescriptorByName(demo.ServiceName)
	return err == nil
}

// TestLoad merges files, in-memory sets and reflection; a dead endpoint
// is skipped for the next one of the same upstream.
func TestLoad(t *testing.T) {
	up, _ := reflectionStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, src := range []Source{
		{Files: []string{bookstorePB}},
		{Sets: [][]byte{demo.Descriptors()}},
		{Reflect: []Upstream{{Name: "a", Endpoints: []string{closedAddr(t), up}}}},
		{Files: []string{bookstorePB}, Sets: [][]byte{demo.Descriptors()}, Reflect: []Upstream{{Name: "a", Endpoints: []string{up}}}},
	} {
		files, err := Load(ctx, src)
		if err != nil || !hasService(files) {
			t.Errorf("%+v: got %v; want %s loaded", src, err, demo.ServiceName)
		}
	}
}

// TestLoadReflectsOncePerUpstream: each upstream gets one reflection
// stream, however many services it has.
func TestLoadReflectsOncePerUpstream(t *testing.T) {
	a, na := reflectionStreams(t)
	b, nb := reflectionStreams(t)
	src := Source{Reflect: []Upstream{{Name: "a", Endpoints: []string{a}}, {Name: "b", Endpoints: []string{b}}}, Timeout: 10 * time.Second}
	if _, err := Load(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if na.Load() != 1 || nb.Load() != 1 {
		t.Errorf("reflection streams: got %d and %d; want 1 each", na.Load(), nb.Load())
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pb")
	if err := os.WriteFile(junk, []byte("not a descriptor set"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.pb")
	if err := os.WriteFile(other, changedSet(t), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pb")
	dead := closedAddr(t)
	tests := []struct {
		name   string
		src    Source
		is     error
		prefix string
	}{
		{"none", Source{}, ErrNone, "descriptors: none given"},
		{"missing file", Source{Files: []string{missing}}, fs.ErrNotExist, "open " + missing + ": "},
		{"not a set", Source{Files: []string{bookstorePB, junk}}, transcode.ErrDescriptor, junk + ": "},
		{"bad in-memory set", Source{Sets: [][]byte{[]byte("junk")}}, transcode.ErrDescriptor, "descriptor set 0: "},
		{"sets disagree", Source{Files: []string{bookstorePB, other}}, transcode.ErrDescriptor, "descriptors: "},
		{"no endpoint answers", Source{Reflect: []Upstream{{Name: "a", Endpoints: []string{dead}}}}, ErrReflection, `upstream "a": reflection: `},
	}
	for _, tt := range tests {
		_, err := Load(context.Background(), tt.src)
		if !errors.Is(err, tt.is) || !strings.HasPrefix(err.Error(), tt.prefix) {
			t.Errorf("%s: got %v; want %v starting %q", tt.name, err, tt.is, tt.prefix)
		}
	}
}

// changedSet is the bookstore set with other file options: it loads alone
// but disagrees with the original.
func changedSet(t *testing.T) []byte {
	t.Helper()
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(demo.Descriptors(), &set); err != nil {
		t.Fatal(err)
	}
	for _, f := range set.File {
		if f.GetName() == "bookstore/v1/bookstore.proto" {
			f.Options = &descriptorpb.FileOptions{GoPackage: proto.String("changed")}
		}
	}
	b, err := proto.Marshal(&set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
