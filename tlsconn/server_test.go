package tlsconn

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/internal/testcert"
)

// TestSNI: each server name gets its certificate (exact, wildcard, by the
// certificate's names or by server_names), others the default.
func TestSNI(t *testing.T) {
	ca := testcert.NewCA(t, "CA")
	dir := t.TempDir()
	def := ca.Server(t, "default")
	api := ca.Issue(t, testcert.Spec{CN: "api", DNS: []string{"api.example.com"}})
	wild := ca.Issue(t, testcert.Spec{CN: "wild", DNS: []string{"*.apps.example.com"}})
	named := ca.Issue(t, testcert.Spec{CN: "named", DNS: []string{"other.example.com"}})
	pair := func(l *testcert.Leaf, name string, names ...string) Pair {
		cf, kf := l.Write(t, dir, name)
		return Pair{CertFile: cf, KeyFile: kf, ServerNames: names}
	}
	cs, err := LoadServer(ServerFiles{Default: pair(def, "def"),
		SNI: []Pair{pair(api, "api"), pair(wild, "wild"), pair(named, "named", "grpc.example.com")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ sni, want string }{
		{"", "default"}, {"localhost", "default"}, {"api.example.com", "api"}, {"API.Example.Com.", "api"},
		{"x.apps.example.com", "wild"}, {"y.x.apps.example.com", "default"}, {"grpc.example.com", "named"},
		{"other.example.com", "default"}, {"unknown.test", "default"},
	} {
		if got := cs.pick(tt.sni).Leaf.Subject.CommonName; got != tt.want {
			t.Errorf("SNI %q: got %s; want %s", tt.sni, got, tt.want)
		}
	}
}

// TestMTLS: with client_ca_file a client without a certificate, or with
// one from another CA, is refused; one from the CA is accepted and its
// identity kept, and its XFCC element names it.
func TestMTLS(t *testing.T) {
	var ca *testcert.CA
	ts := startServer(t, func(dir string, c *testcert.CA) ServerFiles {
		ca = c
		cf, kf := c.Issue(t, testcert.Spec{CN: "gw", DNS: []string{"localhost"}, URIs: []string{"spiffe://strait/gateway"}}).Write(t, dir, "gw")
		return ServerFiles{Default: Pair{CertFile: cf, KeyFile: kf}, ClientCAFile: c.Write(t, dir, "ca")}
	}, Options{}, echo)
	handshake := func(cfg *tls.Config) error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ts.addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		// TLS 1.3: the server's verdict on the client certificate arrives
		// after the client's handshake is done.
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		_, err = c.Read(make([]byte, 4))
		return err
	}
	if err := handshake(testcert.ClientConfig(ca, "localhost", nil)); err == nil {
		t.Error("no client certificate: accepted")
	}
	other := testcert.NewCA(t, "other")
	if err := handshake(testcert.ClientConfig(ca, "localhost", nil, other.Issue(t, testcert.Spec{CN: "x", Client: true}))); err == nil {
		t.Error("certificate of another CA: accepted")
	}
	client := ca.Issue(t, testcert.Spec{CN: "alice", Org: "Acme, Inc.", Client: true,
		URIs: []string{"spiffe://acme/alice"}, DNS: []string{"alice.acme.test", "a.acme.test"}})
	if err := handshake(testcert.ClientConfig(ca, "localhost", nil, client)); err != nil {
		t.Fatalf("client of the CA: %v", err)
	}
	var sc *Conn
	for sc == nil || sc.Peer() == nil {
		sc = <-ts.conns
	}
	id := sc.Peer()
	if id.Leaf.Subject.CommonName != "alice" || len(id.Chains) == 0 {
		t.Errorf("identity: %+v", id)
	}
	want := `By=spiffe://strait/gateway;Hash=` + id.Hash + `;Subject="CN=alice,O=Acme\\, Inc.";URI=spiffe://acme/alice;DNS=alice.acme.test;DNS=a.acme.test`
	if id.XFCC() != want {
		t.Errorf("XFCC:\ngot  %s\nwant %s", id.XFCC(), want)
	}
}

// TestSwapKeepsSessions: a certificate swap serves the new certificate
// to new connections, and sessions from before it still resume.
func TestSwapKeepsSessions(t *testing.T) {
	var dir string
	var ca *testcert.CA
	ts := startServer(t, func(d string, c *testcert.CA) ServerFiles {
		dir, ca = d, c
		cf, kf := c.Server(t, "first").Write(t, d, "server")
		return ServerFiles{Default: Pair{CertFile: cf, KeyFile: kf}}
	}, Options{}, echo)
	cfg := testcert.ClientConfig(ca, "localhost", []string{"h2"})
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	connect := func() tls.ConnectionState {
		c := ts.dial(t, cfg)
		if _, err := c.Write([]byte("x")); err != nil { // TLS 1.3 tickets come after the handshake
			t.Fatal(err)
		}
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		st := c.ConnectionState()
		c.Close()
		return st
	}
	if st := connect(); st.PeerCertificates[0].Subject.CommonName != "first" {
		t.Fatalf("got %s", st.PeerCertificates[0].Subject.CommonName)
	}
	if st := connect(); !st.DidResume {
		t.Error("second connection did not resume")
	}
	ca.Server(t, "second").Write(t, dir, "server")
	cs, err := LoadServer(ts.srv.Certs().Files())
	if err != nil {
		t.Fatal(err)
	}
	ts.srv.Swap(cs)
	if st := connect(); !st.DidResume {
		t.Error("a session from before the swap did not resume")
	}
	cfg.ClientSessionCache = nil
	if st := connect(); st.PeerCertificates[0].Subject.CommonName != "second" {
		t.Errorf("after the swap a full handshake got %s; want second", st.PeerCertificates[0].Subject.CommonName)
	}
}

// TestLoadServerErrors: each file problem is named.
func TestLoadServerErrors(t *testing.T) {
	ca := testcert.NewCA(t, "CA")
	dir := t.TempDir()
	cf, kf := ca.Server(t, "s").Write(t, dir, "s")
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("junk"), 0o600)
	noNames := ca.Issue(t, testcert.Spec{CN: "bare"})
	nf, nk := noNames.Write(t, dir, "bare")
	for _, tt := range []struct {
		name string
		f    ServerFiles
		want string
	}{
		{"no default", ServerFiles{}, "no certificate"},
		{"missing key", ServerFiles{Default: Pair{CertFile: cf, KeyFile: filepath.Join(dir, "nope.key")}}, "nope.key: no such file"},
		{"key of another cert", ServerFiles{Default: Pair{CertFile: cf, KeyFile: nk}}, "private key does not match"},
		{"junk CA", ServerFiles{Default: Pair{CertFile: cf, KeyFile: kf}, ClientCAFile: junk}, "no PEM certificate"},
		{"SNI without names", ServerFiles{Default: Pair{CertFile: cf, KeyFile: kf}, SNI: []Pair{{CertFile: nf, KeyFile: nk}}}, "give server_names"},
	} {
		_, err := LoadServer(tt.f)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v; want %q", tt.name, err, tt.want)
		}
	}
}

// TestDial: the client side checks the server's certificate and name,
// offers h2, presents its certificate, and serves OnRequest on a
// goroutine of its own.
func TestDial(t *testing.T) {
	ts := startServer(t, nil, Options{}, echo)
	dir := t.TempDir()
	cfg, err := LoadClient(ClientFiles{CAFile: ts.ca.Write(t, dir, "ca")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.addr, cfg, Options{ReadTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.State().NegotiatedProtocol; p != "h2" {
		t.Errorf("ALPN %q", p)
	}
	got := make(chan string, 1)
	_ = c.SetOnRequest(func(_ context.Context, nc netpoll.Connection) error {
		r := nc.Reader()
		b, _ := r.Next(r.Len())
		got <- string(b)
		return r.Release()
	})
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "hello" {
			t.Errorf("echo %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo")
	}
	wrong, _ := LoadClient(ClientFiles{CAFile: testcert.NewCA(t, "other").Write(t, dir, "other"), ServerName: "localhost"})
	if _, err := Dial(ctx, ts.addr, wrong, Options{}); err == nil {
		t.Error("a server of another CA: accepted")
	}
	badName, _ := LoadClient(ClientFiles{CAFile: ts.ca.Write(t, dir, "ca2"), ServerName: "elsewhere.test"})
	if _, err := Dial(ctx, ts.addr, badName, Options{}); err == nil {
		t.Error("a server not named server_name: accepted")
	}
}
