package engine

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/straitgw/strait/tlsconn"
)

// TLSConfig makes the listen port TLS (ALPN h2 and http/1.1, TLS 1.2 at
// least): CertFile and KeyFile (PEM) are served to clients whose server
// name no entry of Certificates claims; ClientCAFile (a PEM bundle)
// requires client certificates signed by one of its CAs (mTLS), whose
// identity goes upstream in x-forwarded-client-cert. The files are read
// again on reload, and when they change.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
	// Certificates are chosen by SNI: by ServerNames ("api.example.com",
	// "*.example.com"), or by the DNS names of their certificate.
	Certificates []SNICert `yaml:"certificates"`
}

// SNICert is a certificate chosen by the client's server name.
type SNICert struct {
	CertFile    string   `yaml:"cert_file"`
	KeyFile     string   `yaml:"key_file"`
	ServerNames []string `yaml:"server_names"`
}

// Enabled reports whether the listen port is TLS.
func (t TLSConfig) Enabled() bool {
	return t.CertFile != "" || t.KeyFile != "" || t.ClientCAFile != "" || len(t.Certificates) > 0
}

// Files are the listener's files for tlsconn.
func (t TLSConfig) Files() tlsconn.ServerFiles {
	f := tlsconn.ServerFiles{Default: tlsconn.Pair{CertFile: t.CertFile, KeyFile: t.KeyFile}, ClientCAFile: t.ClientCAFile}
	for _, c := range t.Certificates {
		f.SNI = append(f.SNI, tlsconn.Pair{CertFile: c.CertFile, KeyFile: c.KeyFile, ServerNames: c.ServerNames})
	}
	return f
}

// paths lists every file the listener reads, for the reload watcher.
func (t TLSConfig) paths() []string {
	var ps []string
	for _, p := range []string{t.CertFile, t.KeyFile, t.ClientCAFile} {
		if p != "" {
			ps = append(ps, p)
		}
	}
	for _, c := range t.Certificates {
		ps = append(ps, c.CertFile, c.KeyFile)
	}
	return ps
}

// UpstreamTLS dials an upstream over TLS: CAFile (PEM; empty: the
// system roots) verifies it, CertFile and KeyFile are the gateway's
// client certificate (mTLS), ServerName is the name verified and sent as
// SNI (empty: each endpoint's host).
type UpstreamTLS struct {
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
}

// Enabled reports whether the upstream is dialed over TLS.
func (u UpstreamTLS) Enabled() bool { return u != UpstreamTLS{} }

// ClientConfig loads the upstream's TLS client configuration; nil when
// it has none.
func (u UpstreamTLS) ClientConfig() (*tls.Config, error) {
	if !u.Enabled() {
		return nil, nil
	}
	return tlsconn.LoadClient(tlsconn.ClientFiles{CAFile: u.CAFile, CertFile: u.CertFile, KeyFile: u.KeyFile, ServerName: u.ServerName})
}

// digest identifies the contents of the upstream's TLS files: a pool is
// kept across a reload only while they are the same.
func (u UpstreamTLS) digest() string {
	if !u.Enabled() {
		return ""
	}
	h := sha256.New()
	for _, f := range []string{u.CAFile, u.CertFile, u.KeyFile} {
		if f == "" {
			continue
		}
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() && st.Size() < 4<<20 {
			b, _ := os.ReadFile(f)
			h.Write(b)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ListenTLSPaths lists the listener's TLS files (certificates, keys,
// client CAs), for a watcher that reloads them (Engine.ReloadCertificates).
func (c *Config) ListenTLSPaths() []string { return c.TLS.paths() }

// UpstreamTLSPaths lists the upstreams' TLS files; a change reloads the
// configuration (their pools dial anew).
func (c *Config) UpstreamTLSPaths() []string {
	var ps []string
	for _, u := range c.Upstreams {
		for _, p := range []string{u.TLS.CAFile, u.TLS.CertFile, u.TLS.KeyFile} {
			if p != "" {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// resolveTLSPaths makes relative TLS file names relative to dir (the
// configuration file's directory), as descriptors are.
func (c *Config) resolveTLSPaths(dir string) {
	fix := func(path string, p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
			c.src.retarget(path, *p)
		}
	}
	fix("tls.cert_file", &c.TLS.CertFile)
	fix("tls.key_file", &c.TLS.KeyFile)
	fix("tls.client_ca_file", &c.TLS.ClientCAFile)
	for i := range c.TLS.Certificates {
		s := &c.TLS.Certificates[i]
		fix(fmt.Sprintf("tls.certificates[%d].cert_file", i), &s.CertFile)
		fix(fmt.Sprintf("tls.certificates[%d].key_file", i), &s.KeyFile)
	}
	for i := range c.Upstreams {
		u := &c.Upstreams[i].TLS
		base := fmt.Sprintf("upstreams[%d].tls.", i)
		fix(base+"ca_file", &u.CAFile)
		fix(base+"cert_file", &u.CertFile)
		fix(base+"key_file", &u.KeyFile)
	}
}

// tls checks the listener's TLS settings and loads its files.
func (k *checker) tls() {
	t := k.c.TLS
	if !t.Enabled() {
		return
	}
	ok := true
	if t.CertFile == "" {
		k.add("tls.cert_file", "", "missing: the PEM certificate chain served by default")
		ok = false
	}
	if t.KeyFile == "" {
		k.add("tls.key_file", "", "missing: the PEM private key of cert_file")
		ok = false
	}
	for i, c := range t.Certificates {
		path := fmt.Sprintf("tls.certificates[%d]", i)
		if c.CertFile == "" || c.KeyFile == "" {
			k.add(path, "", "give both cert_file and key_file")
			ok = false
		}
	}
	if !ok {
		return
	}
	if _, err := tlsconn.LoadServer(t.Files()); err != nil {
		k.add("tls", "", "%v", err)
	}
}

// upstreamTLS checks an upstream's TLS settings and loads its files.
func (k *checker) upstreamTLS(path string, u UpstreamTLS) {
	if !u.Enabled() {
		return
	}
	if (u.CertFile == "") != (u.KeyFile == "") {
		k.add(path+".tls", "", "a client certificate needs both cert_file and key_file")
		return
	}
	if _, err := u.ClientConfig(); err != nil {
		k.add(path+".tls", "", "%v", err)
	}
}
