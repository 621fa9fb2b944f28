package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	echoBuildOnce sync.Once
	echoBinPath   string
	echoBuildErr  error
)

// echoServerBin builds internal/echo/echoserver once per test binary
// (without -race: it is the peer, not the subject), removed by TestMain.
func echoServerBin(t *testing.T) string {
	t.Helper()
	echoBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strait-echoserver")
		if err != nil {
			echoBuildErr = err
			return
		}
		echoBinPath = filepath.Join(dir, "echoserver")
		out, err := exec.Command("go", "build", "-o", echoBinPath, "../internal/echo/echoserver").CombinedOutput()
		if err != nil {
			echoBuildErr = fmt.Errorf("go build echoserver: %v\n%s", err, out)
		}
	})
	if echoBuildErr != nil {
		t.Fatal(echoBuildErr)
	}
	return echoBinPath
}

// backend is one echo upstream process (internal/echo/echoserver) and
// the x-req-id of every call it received, read from its output. A
// process killed keeps what it printed, so once the output ends (gone)
// seen is exactly what this backend ever saw.
type backend struct {
	Name, Addr string
	cmd        *exec.Cmd
	gone       chan struct{} // closed at the output's EOF
	stderr     strings.Builder

	mu     sync.Mutex
	seen   map[string]bool
	conns  int  // connections accepted
	failed bool // killed or hung by the test: calls it saw may fail
}

// startBackend runs an echoserver on addr ("127.0.0.1:0": any port).
func startBackend(t *testing.T, name, addr string) *backend {
	t.Helper()
	b := &backend{Name: name, gone: make(chan struct{}), seen: map[string]bool{}}
	b.cmd = exec.Command(echoServerBin(t), "-listen", addr)
	b.cmd.Stderr = &b.stderr
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "listening ") {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
		t.Fatalf("echoserver %s on %s did not start: %q %s", name, addr, sc.Text(), b.stderr.String())
	}
	b.Addr = strings.TrimPrefix(sc.Text(), "listening ")
	go func() {
		defer close(b.gone)
		for sc.Scan() {
			b.mu.Lock()
			if strings.HasPrefix(sc.Text(), "+conn ") {
				b.conns++
			} else {
				b.seen[sc.Text()] = true
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies only once resumed
		_ = b.cmd.Process.Kill()
		<-b.gone
		_ = b.cmd.Wait()
	})
	return b
}

// kill ends the process with SIGKILL (no GOAWAY, no FIN handshake of its
// own: the kernel closes its sockets) and waits until its output is
// complete.
func (b *backend) kill(t *testing.T) {
	t.Helper()
	b.markFailed()
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	b.waitGone(t)
}

// term sends SIGTERM: grpc-go's GracefulStop (GOAWAY, calls in flight
// finish), then exit 0. It waits for the exit.
func (b *backend) term(t *testing.T) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	b.waitGone(t)
}

func (b *backend) waitGone(t *testing.T) {
	t.Helper()
	select {
	case <-b.gone:
	case <-time.After(15 * time.Second):
		t.Fatalf("backend %s did not exit", b.Name)
	}
	_ = b.cmd.Wait()
}

func (b *backend) markFailed() {
	b.mu.Lock()
	b.failed = true
	b.mu.Unlock()
}

// saw reports whether this backend received the call with x-req-id id.
func (b *backend) saw(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen[id]
}

// count is how many calls this backend received.
func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen)
}

// accepted is how many connections this backend accepted.
func (b *backend) accepted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns
}

// excused reports whether a failure of call id is allowed: a backend the
// test killed or hung saw it.
func excused(bs []*backend, id string) bool {
	for _, b := range bs {
		b.mu.Lock()
		ok := b.failed && b.seen[id]
		b.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// blackhole accepts TCP connections on addr and never writes a byte nor
// reads one: a backend that hangs. Connections stay open until the test
// ends.
type blackhole struct {
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	accepted int
}

func startBlackhole(t *testing.T, addr string) *blackhole {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a process just killed frees at once; retry briefly anyway
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	h := &blackhole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.accepted++
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			c.Close()
		}
	})
	return h
}

func (h *blackhole) Addr() string { return h.ln.Addr().String() }

// Accepted is how many connections the blackhole accepted.
func (h *blackhole) Accepted() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted
}
