// Package harness runs the side-by-side benchmark: it installs the tools,
// builds strait and the peers, pins them to CPUs, checks one answer from each,
// drives wrk and h2load in interleaved repeats and writes a markdown table.
// Nothing outside perf/ imports it.
package harness

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// aptTools maps a file the harness needs to the Debian package that ships it.
var aptTools = []struct{ file, pkg string }{
	{"h2load", "nghttp2-client"},
	{"wrk", "wrk"},
	{"nginx", "nginx-light"},
	{"protoc", "protobuf-compiler"},
	{"/usr/include/google/protobuf/descriptor.proto", "libprotobuf-dev"},
	{"taskset", "util-linux"},
}

// goPlugins are the protoc plugins, pinned to the versions go.mod uses.
var goPlugins = []struct{ bin, pkg string }{
	{"protoc-gen-go", "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12"},
	{"protoc-gen-go-grpc", "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2"},
	{"protoc-gen-grpc-gateway", "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@v2.33.0"},
}

func have(file string) bool {
	if strings.HasPrefix(file, "/") {
		_, err := os.Stat(file)
		return err == nil
	}
	_, err := exec.LookPath(file)
	return err == nil
}

// InstallTools apt-gets the missing Debian tools (apt-get update only when
// a plain install fails) and go-installs the protoc plugins into bin/.
// Idempotent: with everything present it runs nothing.
func InstallTools(ctx context.Context, perfDir string) error {
	var missing []string
	for _, t := range aptTools {
		if !have(t.file) {
			missing = append(missing, t.pkg)
		}
	}
	if len(missing) > 0 {
		log.Printf("installing %s", strings.Join(missing, " "))
		install := append([]string{"install", "-y", "--no-install-recommends"}, missing...)
		if err := runCmd(ctx, "", nil, "apt-get", install...); err != nil {
			if err := runCmd(ctx, "", nil, "apt-get", "update"); err != nil {
				return err
			}
			if err := runCmd(ctx, "", nil, "apt-get", install...); err != nil {
				return err
			}
		}
	}
	bin := filepath.Join(perfDir, "bin")
	for _, p := range goPlugins {
		if _, err := os.Stat(filepath.Join(bin, p.bin)); err == nil {
			continue
		}
		if err := runCmd(ctx, perfDir, []string{"GOBIN=" + bin}, "go", "install", p.pkg); err != nil {
			return err
		}
	}
	return nil
}

// Generate compiles proto/ with protoc into gen/ and proto/bench.pb. The
// output is deterministic, so a clean tree stays clean.
func Generate(ctx context.Context, perfDir string) error {
	const mod = "module=github.com/straitgw/strait/perf"
	path := filepath.Join(perfDir, "bin") + ":" + os.Getenv("PATH")
	return runCmd(ctx, perfDir, []string{"PATH=" + path}, "protoc",
		"-I", "proto", "-I", "/usr/include",
		"--go_out=.", "--go_opt="+mod,
		"--go-grpc_out=.", "--go-grpc_opt="+mod,
		"--grpc-gateway_out=.", "--grpc-gateway_opt="+mod,
		"--include_imports", "--descriptor_set_out=proto/bench.pb",
		"bench/v1/bench.proto")
}

// Build compiles the upstream, the Go peers and h2gen into bin/.
func Build(ctx context.Context, perfDir string) error {
	for _, c := range []string{"upstream", "peer", "h2gen"} {
		if err := runCmd(ctx, perfDir, nil, "go", "build", "-o", "bin/"+c, "./cmd/"+c); err != nil {
			return err
		}
	}
	return nil
}

// BuildStrait compiles the main module's binary into perf/bin/strait, from
// the repository root (perf/ is another module). The engine may not build:
// the caller reports strait as failed then.
func BuildStrait(ctx context.Context, perfDir string) error {
	return runCmd(ctx, filepath.Dir(perfDir), nil, "go", "build", "-o", filepath.Join(perfDir, "bin", "strait"), "./cmd/strait")
}

// BuildStraitRev compiles the main module's strait as of git revision rev
// into perf/bin/NAME, from a `git archive` of that revision unpacked under
// tmp (no worktree is touched), and returns the binary's path.
func BuildStraitRev(ctx context.Context, perfDir, tmp, name, rev string) (string, error) {
	src := filepath.Join(tmp, "src-"+name)
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	if err := unpackRev(ctx, filepath.Dir(perfDir), rev, src); err != nil {
		return "", err
	}
	bin := filepath.Join(perfDir, "bin", name)
	if err := runCmd(ctx, src, nil, "go", "build", "-o", bin, "./cmd/strait"); err != nil {
		return "", err
	}
	os.RemoveAll(src)
	return bin, nil
}

// unpackRev writes the tree of rev in the repository at root into dir:
// git archive piped into tar, bounded by ctx and 10 minutes.
func unpackRev(ctx context.Context, root, rev, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	git := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", rev, "--")
	tar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := git.StdoutPipe()
	if err != nil {
		return err
	}
	var gerr, terr strings.Builder
	git.Stderr, tar.Stdin, tar.Stderr = &gerr, pipe, &terr
	if err := git.Start(); err != nil {
		return err
	}
	if err := tar.Run(); err != nil {
		git.Wait()
		return fmt.Errorf("tar: %w: %s", err, terr.String())
	}
	if err := git.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w: %s", rev, err, gerr.String())
	}
	return nil
}

// runCmd runs name in dir with extra environment, output to the log, bounded
// by ctx and 10 minutes.
func runCmd(ctx context.Context, dir string, env []string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(out, 2000))
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
