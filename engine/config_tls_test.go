package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/testcert"
)

// TestTLSConfigLoad: the tls block and upstream tls blocks parse, their
// relative paths resolve against the file's directory, and a valid set
// of files validates.
func TestTLSConfigLoad(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "CA")
	ca.Server(t, "gw").Write(t, dir, "gw")
	ca.Issue(t, testcert.Spec{CN: "api", DNS: []string{"api.test"}}).Write(t, dir, "api")
	ca.Write(t, dir, "ca")
	ca.Issue(t, testcert.Spec{CN: "strait", Client: true}).Write(t, dir, "client")
	os.WriteFile(filepath.Join(dir, "api.pb"), nil, 0o644)
	yaml := `listen: 127.0.0.1:8443
descriptors: [api.pb]
tls:
  cert_file: gw.crt
  key_file: gw.key
  client_ca_file: ca.crt
  certificates:
    - {cert_file: api.crt, key_file: api.key, server_names: [api.test, "*.api.test"]}
upstreams:
  - name: a
    endpoints: [127.0.0.1:50051]
    tls: {ca_file: ca.crt, cert_file: client.crt, key_file: client.key, server_name: backend.test}
`
	p := filepath.Join(dir, "strait.yaml")
	os.WriteFile(p, []byte(yaml), 0o644)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := TLSConfig{CertFile: filepath.Join(dir, "gw.crt"), KeyFile: filepath.Join(dir, "gw.key"), ClientCAFile: filepath.Join(dir, "ca.crt"),
		Certificates: []SNICert{{CertFile: filepath.Join(dir, "api.crt"), KeyFile: filepath.Join(dir, "api.key"), ServerNames: []string{"api.test", "*.api.test"}}}}
	if got := c.TLS; got.CertFile != want.CertFile || got.KeyFile != want.KeyFile || got.ClientCAFile != want.ClientCAFile ||
		len(got.Certificates) != 1 || got.Certificates[0].CertFile != want.Certificates[0].CertFile || len(got.Certificates[0].ServerNames) != 2 {
		t.Errorf("tls: got %+v; want %+v", got, want)
	}
	if u := c.Upstreams[0].TLS; u.CAFile != filepath.Join(dir, "ca.crt") || u.ServerName != "backend.test" || !u.Enabled() {
		t.Errorf("upstream tls: got %+v", u)
	}
	if tc, err := c.Upstreams[0].TLS.ClientConfig(); err != nil || tc.ServerName != "backend.test" || len(tc.Certificates) != 1 || tc.NextProtos[0] != "h2" {
		t.Errorf("upstream client config: %+v, %v", tc, err)
	}
	if n := len(c.ListenTLSPaths()) + len(c.UpstreamTLSPaths()); n != 8 {
		t.Errorf("TLS paths: got %d; want 8", n)
	}
}

// TestTLSConfigProblems: each TLS mistake is reported at its key.
func TestTLSConfigProblems(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "CA")
	cf, kf := ca.Server(t, "gw").Write(t, dir, "gw")
	_, otherKey := ca.Server(t, "other").Write(t, dir, "other")
	for _, tt := range []struct {
		name string
		tls  TLSConfig
		up   UpstreamTLS
		want string
	}{
		{"no key", TLSConfig{CertFile: cf}, UpstreamTLS{}, "tls.key_file: missing"},
		{"only a CA", TLSConfig{ClientCAFile: cf}, UpstreamTLS{}, "tls.cert_file: missing"},
		{"missing file", TLSConfig{CertFile: cf, KeyFile: filepath.Join(dir, "no.key")}, UpstreamTLS{}, "no.key: no such file"},
		{"wrong key", TLSConfig{CertFile: cf, KeyFile: otherKey}, UpstreamTLS{}, "private key does not match"},
		{"SNI half", TLSConfig{CertFile: cf, KeyFile: kf, Certificates: []SNICert{{CertFile: cf}}}, UpstreamTLS{}, "tls.certificates[0]: give both"},
		{"upstream half pair", TLSConfig{}, UpstreamTLS{CertFile: cf}, "upstreams[0].tls: a client certificate needs both"},
		{"upstream bad CA", TLSConfig{}, UpstreamTLS{CAFile: kf}, "no PEM certificate"},
		{"not a file", TLSConfig{CertFile: dir, KeyFile: kf}, UpstreamTLS{}, "not a regular file"},
	} {
		c := valid(t)
		c.TLS, c.Upstreams[0].TLS = tt.tls, tt.up
		c.Defaults()
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v; want %q", tt.name, err, tt.want)
		}
	}
}

// TestExampleTLSConfig: examples/strait-tls.yaml and its certificates
// validate.
func TestExampleTLSConfig(t *testing.T) {
	c, err := LoadConfig("../examples/strait-tls.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.TLS.Enabled() || c.TLS.ClientCAFile == "" || len(c.TLS.Certificates) != 1 {
		t.Errorf("tls: %+v", c.TLS)
	}
}
