package e2e

import (
	"github.com/straitgw/strait/internal/testutil"

	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	_ "google.golang.org/grpc/interop/grpc_testing" // registers grpc/testing/test.proto
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// interopCases are grpc-go's interop cases that need neither TLS nor cloud
// credentials (TESTING.md); a reference proxy passes all of them.
var interopCases = []string{
	"empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong",
	"empty_stream", "timeout_on_sleeping_server", "cancel_after_begin",
	"cancel_after_first_response", "status_code_and_message", "special_status_message",
	"custom_metadata", "unimplemented_method", "unimplemented_service",
	"orca_per_rpc", "orca_oob", "rpc_soak", "channel_soak",
}

// interopBin finds a grpc-go interop binary installed by `make tools`.
func interopBin(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run `make tools` (it installs grpc-go's interop client and server)", p)
	}
	return p
}

// TestGRPCInterop runs grpc-go's interop client through strait serve to
// grpc-go's interop server: native gRPC relayed stream to stream.
func TestGRPCInterop(t *testing.T) {
	server, client := interopBin(t, "interop-server"), interopBin(t, "interop-client")
	upAddr := testutil.FreeAddr(t)
	_, upPort := splitPort(t, upAddr)
	up := exec.Command(server, "-port", upPort)
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = up.Process.Kill(); _, _ = up.Process.Wait() })
	testutil.WaitListen(t, upAddr)

	listen := testutil.FreeAddr(t)
	runStrait(t, listen, "serve", "--listen", listen, "--upstream", upAddr,
		"--descriptors", interopDescriptors(t))
	_, port := splitPort(t, listen)
	for _, tc := range interopCases {
		t.Run(tc, func(t *testing.T) {
			args := []string{"-server_host", "127.0.0.1", "-server_port", port, "-test_case", tc}
			switch tc {
			case "orca_per_rpc", "orca_oob":
				args = append(args, "-service_config_json", `{"loadBalancingConfig":[{"test_backend_metrics_load_balancer":{}}]}`)
			case "rpc_soak", "channel_soak":
				// A race-built gateway on a shared 2-core machine: allow slow
				// iterations, count failures only.
				args = append(args, "-soak_iterations", "20", "-soak_overall_timeout_seconds", "60",
					"-soak_per_iteration_max_acceptable_latency_ms", "5000")
			}
			cmd := exec.Command(client, args...)
			done := make(chan struct{})
			timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill(); close(done) })
			out, err := cmd.CombinedOutput()
			timer.Stop()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc, err, out)
			}
		})
	}
}

// interopDescriptors writes grpc/testing/test.proto and its imports as a
// FileDescriptorSet, from grpc-go's registered files.
func interopDescriptors(t *testing.T) string {
	t.Helper()
	fd, err := protoregistry.GlobalFiles.FindFileByPath("grpc/testing/test.proto")
	if err != nil {
		t.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	seen := map[string]bool{}
	var add func(protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			add(imps.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	add(fd)
	b, err := proto.Marshal(&set)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "interop.pb")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
