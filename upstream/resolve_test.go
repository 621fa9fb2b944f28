package upstream

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeDNS answers lookups of one host from a list the test changes; the
// first lookup waits for open.
type fakeDNS struct {
	mu    sync.Mutex
	host  string
	addrs []string
	err   error
	open  chan struct{}
	calls int
}

func (d *fakeDNS) resolve(ctx context.Context, host string) ([]string, error) {
	select {
	case <-d.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if host != d.host {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return slices.Clone(d.addrs), d.err
}

func (d *fakeDNS) set(addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addrs = addrs
}

func addrsOf(p *Pool) []string {
	var a []string
	for _, e := range p.endpoints() {
		a = append(a, e.Addr())
	}
	return a
}

// TestDNS: a host name's addresses become endpoints once the first lookup
// answers (Open says ErrPending until then); an address that vanishes
// drains: its stream in flight finishes, new streams go elsewhere, and
// its connection closes; an address that returns is a new endpoint.
func TestDNS(t *testing.T) {
	ln1 := listen(t)
	port := ln1.Addr().(*net.TCPAddr).Port
	ln2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)))
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	t.Cleanup(func() { ln2.Close() })
	held, release := holding(t)
	proxy(t, ln1, held, 0)
	proxy(t, ln2, serving(t), 0)
	one, two := ln1.Addr().String(), ln2.Addr().String()
	dns := &fakeDNS{host: "backend.test", addrs: []string{"127.0.0.1"}, open: make(chan struct{})}
	p := newPool(t, []string{"backend.test:" + strconv.Itoa(port)}, Config{Resolve: dns.resolve, DNSRefresh: 20 * time.Millisecond})
	woken := make(chan struct{})
	r := echoRequest(newCall())
	r.Wake = func() { close(woken) }
	if _, _, err := p.Open(nil, r); !errors.Is(err, ErrPending) {
		t.Fatalf("Open before the first lookup: %v; want ErrPending", err)
	}
	close(dns.open)
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by the first lookup")
	}
	c1 := newCall()
	_, e1 := startEcho(t, p, echoRequest(c1))
	if e1.Addr() != one || e1.authority != "backend.test:"+strconv.Itoa(port) {
		t.Fatalf("first stream on %s (authority %s); want %s (backend.test)", e1.Addr(), e1.authority, one)
	}
	dns.set("127.0.0.2")
	waitFor(t, 5*time.Second, "endpoints follow DNS", func() bool { return slices.Equal(addrsOf(p), []string{two}) })
	for range 3 {
		if e := echo(t, p); e.Addr() != two {
			t.Fatalf("stream after the swap went to %s; want %s", e.Addr(), two)
		}
	}
	if st := e1.stats(); st.Conns != 1 || st.Active != 1 {
		t.Fatalf("drained endpoint: %d conns, %d active; want its stream in flight", st.Conns, st.Active)
	}
	release()
	if st, err := c1.result(t); st != "0" || err != nil {
		t.Fatalf("stream on the drained endpoint: %q, %v; want 0, nil", st, err)
	}
	waitFor(t, 5*time.Second, "drained connection closed", func() bool { return e1.stats().Conns == 0 })
	dns.set("127.0.0.2", "127.0.0.1", "127.0.0.2")
	waitFor(t, 5*time.Second, "the address returns", func() bool { return slices.Equal(addrsOf(p), []string{two, one}) })
	if byAddr(p, one) == e1 {
		t.Fatal("a returning address reused its drained endpoint")
	}
	dns.mu.Lock()
	dns.err = errors.New("lookup glitch")
	dns.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	if got := addrsOf(p); !slices.Equal(got, []string{two, one}) {
		t.Fatalf("after failed lookups: endpoints %v; want them kept", got)
	}
}

// TestDNSFailure: a host that does not resolve leaves the pool without
// endpoints; Open then reports the lookup's failure as ErrNoEndpoint.
func TestDNSFailure(t *testing.T) {
	dns := &fakeDNS{host: "other.test", open: make(chan struct{})}
	close(dns.open)
	p := newPool(t, []string{"backend.test:50051"}, Config{Resolve: dns.resolve})
	_, _, err := open(t, p, echoRequest(newCall()))
	var re *ResolveError
	if !errors.Is(err, ErrNoEndpoint) || !errors.As(err, &re) || re.Host != "backend.test" {
		t.Fatalf("Open: %v; want a ResolveError for backend.test, ErrNoEndpoint", err)
	}
	if p.Ready() {
		t.Fatal("Ready with no endpoint")
	}
}
