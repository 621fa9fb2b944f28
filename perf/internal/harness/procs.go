package harness

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrExited is returned when a child process ends before it is ready.
var ErrExited = errors.New("harness: process exited")

// Proc is one child process, alone in its process group.
type Proc struct {
	Name string
	Pid  int
	Log  string // file with its stdout and stderr
	done chan struct{}
	err  error
}

// Alive reports whether the process has not exited.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Procs starts children pinned to CPUs and kills every one of them, with
// their own children, in KillAll (called on every exit path).
type Procs struct {
	Dir  string // log directory
	mu   sync.Mutex
	list []*Proc
	n    int // starts so far: each gets its own log file
}

// Start runs bin pinned to cpu (a taskset list) with extra environment.
// taskset execs bin, so Pid is bin's own pid.
func (ps *Procs) Start(name, cpu string, env []string, bin string, args ...string) (*Proc, error) {
	ps.mu.Lock()
	ps.n++
	logPath := filepath.Join(ps.Dir, fmt.Sprintf("%s-%02d.log", name, ps.n))
	ps.mu.Unlock()
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command("taskset", append([]string{"-c", cpu, bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Pid: cmd.Process.Pid, Log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// WaitPort waits until addr accepts a TCP connection, p exits, or timeout.
func WaitPort(p *Proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !p.Alive() {
			return fmt.Errorf("%w: %s: %v (log %s)", ErrExited, p.Name, p.err, p.Log)
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("harness: %s not listening on %s after %v (log %s)", p.Name, addr, timeout, p.Log)
}

// Kill ends p's whole process group and waits for it.
func (p *Proc) Kill() {
	syscall.Kill(-p.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// KillAll ends every process started, newest first.
func (ps *Procs) KillAll() {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].Kill()
	}
}

// FreePort returns a loopback address whose port was free a moment ago.
func FreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
