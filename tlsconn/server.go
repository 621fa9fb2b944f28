package tlsconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Pair is a certificate chain and its private key, PEM files.
type Pair struct {
	CertFile, KeyFile string
	// ServerNames choose this pair by SNI: exact names, or "*.example.com"
	// for one label. Empty: the DNS names of its certificate.
	ServerNames []string
}

// ServerFiles is what a TLS listener serves: Default to clients whose
// server name no SNI pair claims (or who send none), SNI pairs chosen by
// name, and with ClientCAFile (a PEM bundle) client certificates are
// required and verified against it.
type ServerFiles struct {
	Default      Pair
	SNI          []Pair
	ClientCAFile string
}

// Certs is one generation of a listener's certificates, loaded whole: a
// reload builds a new one and swaps it in (Server.Swap), so a handshake
// sees either the old set or the new, never a mix.
type Certs struct {
	cfg   *tls.Config // what handshakes of this generation use
	def   *tls.Certificate
	names map[string]*tls.Certificate // exact and "*.suffix" names
	pool  *x509.CertPool              // client CAs; nil: no mTLS
	files ServerFiles
}

// ErrNoCert reports a listener configuration without a default pair.
var ErrNoCert = errors.New("tlsconn: no certificate")

// LoadServer reads and checks every file of f.
func LoadServer(f ServerFiles) (*Certs, error) {
	if f.Default.CertFile == "" || f.Default.KeyFile == "" {
		return nil, ErrNoCert
	}
	cs := &Certs{names: map[string]*tls.Certificate{}, files: f}
	var err error
	if cs.def, err = loadPair(f.Default); err != nil {
		return nil, err
	}
	for _, p := range f.SNI {
		c, err := loadPair(p)
		if err != nil {
			return nil, err
		}
		names := p.ServerNames
		if len(names) == 0 {
			names = c.Leaf.DNSNames
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: no DNS names in the certificate: give server_names", p.CertFile)
		}
		for _, n := range names {
			n = strings.ToLower(strings.TrimSuffix(n, "."))
			if _, dup := cs.names[n]; !dup { // the first pair listed wins
				cs.names[n] = c
			}
		}
	}
	if f.ClientCAFile != "" {
		if cs.pool, err = LoadPool(f.ClientCAFile); err != nil {
			return nil, err
		}
	}
	cs.cfg = cs.config()
	return cs, nil
}

// loadPair loads a key pair; its Leaf is parsed.
func loadPair(p Pair) (*tls.Certificate, error) {
	cb, err := readPEM(p.CertFile)
	if err != nil {
		return nil, err
	}
	kb, err := readPEM(p.KeyFile)
	if err != nil {
		return nil, err
	}
	c, err := tls.X509KeyPair(cb, kb)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", p.CertFile, p.KeyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", p.CertFile, err)
		}
	}
	return &c, nil
}

// LoadPool reads a PEM bundle of CA certificates.
func LoadPool(file string) (*x509.CertPool, error) {
	b, err := readPEM(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, nil
}

// maxPEM bounds a PEM file: real ones are a few KB, a CA bundle a few
// hundred.
const maxPEM = 4 << 20

// readPEM reads a regular file of at most maxPEM bytes.
func readPEM(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", file)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPEM+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(b) > maxPEM {
		return nil, fmt.Errorf("%s: larger than %d bytes", file, maxPEM)
	}
	return b, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// config is the generation's handshake configuration. Session tickets
// are the Server's (its base config's keys): they survive a swap.
func (cs *Certs) config() *tls.Config {
	c := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return cs.pick(h.ServerName), nil },
	}
	if cs.pool != nil {
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, cs.pool
		c.VerifyConnection = cs.verifyResumed
	}
	return c
}

// pick chooses the certificate for a server name: an exact name, then a
// wildcard for its first label, then the default.
func (cs *Certs) pick(name string) *tls.Certificate {
	if name != "" {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		if c, ok := cs.names[name]; ok {
			return c
		}
		if _, rest, ok := strings.Cut(name, "."); ok {
			if c, ok := cs.names["*."+rest]; ok {
				return c
			}
		}
	}
	return cs.def
}

// verifyResumed checks a resumed session's client certificate against
// the CAs in force now: a ticket issued before a reload must not outlive
// a CA that was removed.
func (cs *Certs) verifyResumed(st tls.ConnectionState) error {
	if !st.DidResume || len(st.PeerCertificates) == 0 {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := st.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: cs.pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return err
}

// Files is what the generation was loaded from.
func (cs *Certs) Files() ServerFiles { return cs.files }

// Server accepts TLS connections with the Certs swapped in last.
type Server struct {
	certs atomic.Pointer[Certs]
	base  *tls.Config
}

// NewServer serves cs until the next Swap.
func NewServer(cs *Certs) *Server {
	s := &Server{}
	s.certs.Store(cs)
	s.base = &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.certs.Load().cfg, nil
		},
	}
	return s
}

// Swap makes cs the certificates of every later handshake; connections
// already open keep theirs.
func (s *Server) Swap(cs *Certs) { s.certs.Store(cs) }

// Certs is the generation in force.
func (s *Server) Certs() *Certs { return s.certs.Load() }

// Handshake runs the server handshake on raw within timeout and returns
// the connection, with its client's identity when it sent a certificate.
// On error raw is closed.
func (s *Server) Handshake(raw net.Conn, timeout time.Duration, o Options) (*Conn, error) {
	sk := newSock(raw)
	tc := tls.Server(sk, s.base)
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
		_ = raw.SetDeadline(time.Now().Add(timeout))
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	c := newConn(tc, sk, o)
	if st := tc.ConnectionState(); len(st.PeerCertificates) > 0 {
		c.peer = newIdentity(st, s.certs.Load().pick(st.ServerName).Leaf)
	}
	return c, nil
}
