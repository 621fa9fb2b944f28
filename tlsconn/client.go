package tlsconn

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// ClientFiles configure TLS to an upstream: CAFile (a PEM bundle; empty:
// the system roots) verifies the server, CertFile and KeyFile are the
// client certificate for mTLS (optional), ServerName is the name
// verified and sent as SNI (empty: the endpoint's host).
type ClientFiles struct {
	CAFile, CertFile, KeyFile string
	ServerName                string
}

// LoadClient builds the client configuration of f: TLS 1.2 at least,
// ALPN h2.
func LoadClient(f ClientFiles) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}, ServerName: f.ServerName,
		ClientSessionCache: tls.NewLRUClientSessionCache(64)} // redials resume
	if f.CAFile != "" {
		pool, err := LoadPool(f.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, fmt.Errorf("tlsconn: a client certificate needs both cert_file and key_file")
	}
	if f.CertFile != "" {
		p, err := loadPair(Pair{CertFile: f.CertFile, KeyFile: f.KeyFile})
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{*p}
	}
	return c, nil
}

// ErrALPN reports a server that chose a protocol other than h2.
var ErrALPN = fmt.Errorf("tlsconn: the server did not negotiate h2")

// Dial connects to addr and runs the client handshake, both within ctx.
// Without a ServerName in cfg, the host of addr is verified. A server
// must choose h2 by ALPN, or none.
func Dial(ctx context.Context, addr string, cfg *tls.Config, o Options) (*Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			raw.Close()
			return nil, err
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	sk := newSock(raw)
	tc := tls.Client(sk, cfg)
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "" && p != "h2" {
		raw.Close()
		return nil, fmt.Errorf("%w (got %q)", ErrALPN, p)
	}
	_ = raw.SetDeadline(time.Time{})
	return newConn(tc, sk, o), nil
}
