package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/straitgw/strait/internal/testutil"
)

// slowUpstream answers the bookstore methods by raw bytes: GetShelf waits
// for release (the in-flight calls), ListShelves at once (the load), and
// WatchBooks streams five books 150 ms apart.
type slowUpstream struct {
	held    atomic.Int32
	release chan struct{}
}

var shelfSlow = []byte{0x08, 0x01, 0x12, 0x04, 's', 'l', 'o', 'w'} // Shelf{id: 1, theme: "slow"}

func (u *slowUpstream) serve(c *testutil.Call) ([]byte, error) {
	switch {
	case strings.HasSuffix(c.Method, "/GetShelf"):
		u.held.Add(1)
		select {
		case <-u.release:
		case <-time.After(10 * time.Second):
		}
		return shelfSlow, nil
	case strings.HasSuffix(c.Method, "/WatchBooks"):
		for i := 0; i < 5; i++ {
			time.Sleep(150 * time.Millisecond)
			b := testutil.RawMsg{0x08, byte(i + 1), 0x12, 0x01, 'b'} // Book{id, title: "b"}
			if err := c.Stream.SendMsg(&b); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	return []byte{}, nil // ListShelvesResponse{}
}

// TestDrainOnSIGTERM: with HTTP/1.1, h2, gRPC and streaming calls in flight
// and REST and gRPC load running, SIGTERM turns /readyz 503 at once, every
// call in flight completes, the load sees nothing worse than refused
// connections, and the process exits 0.
func TestDrainOnSIGTERM(t *testing.T) {
	u := &slowUpstream{release: make(chan struct{})}
	up := testutil.StartRawUpstream(t, u.serve)
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cmd := runStrait(t, listen, "serve", "--listen", listen, "--upstream", up,
		"--descriptors", descriptorFile(t), "--admin", admin)
	cc, err := grpc.NewClient(listen, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()

	load := startLoad(t, listen, cc)
	inflight := startInFlight(t, listen, cc)
	waitFor(t, "the slow calls to reach the upstream", func() bool { return u.held.Load() >= 3 })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "/readyz to say 503", func() bool { return readyz(admin) == 503 })
	time.Sleep(300 * time.Millisecond) // the calls are still held: draining waits for them
	close(u.release)
	released := time.Now()

	for name, err := range inflight.wait() {
		if err != nil {
			t.Errorf("in-flight %s: %v", name, err)
		}
	}
	t.Logf("in-flight calls done %v after release", time.Since(released))
	load.stop()
	if n := load.failed.Load(); n > 0 {
		t.Errorf("load: %d requests failed other than by a refused connection (%d ok); first: %v", n, load.ok.Load(), load.first.Load())
	}
	t.Logf("load: %d requests ok, %d failed other than by a refused connection", load.ok.Load(), load.failed.Load())
	exit := make(chan error, 1)
	signaled := time.Now()
	go func() { exit <- cmd.Wait() }()
	select {
	case err := <-exit:
		if err != nil {
			t.Fatalf("strait exited with %v; want 0", err)
		}
		t.Logf("exited %v after the calls ended", time.Since(signaled))
	case <-time.After(10 * time.Second):
		t.Fatal("strait did not exit after draining")
	}
}

func readyz(admin string) int {
	resp, err := http.Get("http://" + admin + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inFlight runs one call of each kind against the slow methods.
type inFlight struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs map[string]error
}

func startInFlight(t *testing.T, listen string, cc *grpc.ClientConn) *inFlight {
	f := &inFlight{errs: map[string]error{}}
	run := func(name string, fn func() error) {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			err := fn()
			f.mu.Lock()
			f.errs[name] = err
			f.mu.Unlock()
		}()
	}
	base := "http://" + listen
	run("HTTP/1.1 REST", func() error { return getBody(http.DefaultClient, base+"/v1/shelves/1", `"theme":"slow"`) })
	run("h2 REST", func() error { return getBody(testutil.H2CClient(), base+"/v1/shelves/1", `"theme":"slow"`) })
	run("gRPC", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		b, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01})
		if err == nil && string(b) != string(shelfSlow) {
			err = errors.New("wrong response " + string(b))
		}
		return err
	})
	run("HTTP/1.1 stream", func() error {
		return getBody(http.DefaultClient, base+"/v1/shelves/1/books:watch", `"author":"b"`)
	})
	return f
}

func (f *inFlight) wait() map[string]error {
	f.wg.Wait()
	return f.errs
}

func getBody(c *http.Client, url, want string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
		return errors.New(resp.Status + " " + string(b))
	}
	if strings.Contains(url, ":watch") && strings.Count(string(b), "\n") != 5 {
		return errors.New("stream cut short: " + string(b))
	}
	return nil
}

// load sends REST and gRPC requests in a loop; a refused connection (the
// listener is gone) ends a loop, any other failure counts.
type load struct {
	wg         sync.WaitGroup
	done       chan struct{}
	ok, failed atomic.Int64
	first      atomic.Value
}

func startLoad(t *testing.T, listen string, cc *grpc.ClientConn) *load {
	l := &load{done: make(chan struct{})}
	for i := 0; i < 4; i++ {
		l.loop(func() error { return getBody(http.DefaultClient, "http://"+listen+"/v1/shelves", "") })
		l.loop(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/ListShelves", nil)
			return err
		})
	}
	return l
}

func (l *load) loop(req func() error) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for i := 0; i < 100000; i++ {
			select {
			case <-l.done:
				return
			default:
			}
			err := req()
			switch {
			case err == nil:
				l.ok.Add(1)
			case refused(err):
				return
			default:
				l.failed.Add(1)
				l.first.CompareAndSwap(nil, err.Error())
			}
		}
	}()
}

func (l *load) stop() {
	close(l.done)
	l.wg.Wait()
}

// refused reports a request that never reached the gateway: the dial was
// refused (the listener is closed).
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}
