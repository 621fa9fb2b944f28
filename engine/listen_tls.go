package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/tlsconn"
)

// TLS on the listen port (ARCHITECTURE.md, "TLS"). netpoll has no TLS:
// a standard listener accepts, and a goroutine per connection runs the
// handshake, then reads and decrypts for as long as the connection lives
// (tlsconn.Conn, a netpoll.Connection). It gets the same onPrepare,
// onRequest and close callbacks as netpoll's connections, so HTTP/1.1,
// h2, gRPC and gRPC-Web, drain, overload accounting and panics work on
// it unchanged.

// listenTLS binds the listen address with the configured certificates.
func (e *Engine) listenTLS(cfg Config) error {
	certs, err := tlsconn.LoadServer(cfg.TLS.Files())
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, unwrapSyscall(err))
	}
	e.tls, e.ln = tlsconn.NewServer(certs), ln
	go e.acceptTLS(ln)
	return nil
}

// acceptTLS accepts until the listener closes (Drain, Close).
func (e *Engine) acceptTLS(ln net.Listener) {
	var wait time.Duration
	for {
		raw, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: wait and retry, as net/http does.
			wait = min(max(2*wait, 5*time.Millisecond), time.Second)
			e.log.Warn("tls accept failed", "err", err, "retry_in", wait)
			time.Sleep(wait)
			continue
		}
		wait = 0
		go e.serveTLS(raw)
	}
}

// serveTLS runs one connection: the handshake within the header timeout,
// then the engine's callbacks until it closes.
func (e *Engine) serveTLS(raw net.Conn) {
	defer func() {
		if v := recover(); v != nil { // onPrepare's; OnRequest guards itself
			e.panicked("tls connection", v, debug.Stack())
			_ = raw.Close()
		}
	}()
	cfg := e.snap.Load().cfg
	nc, err := e.tls.Handshake(raw, cfg.Timeouts.Header, tlsconn.Options{
		ReadTimeout:  cfg.Timeouts.Header,
		WriteTimeout: cfg.Timeouts.Write,
		OnPanic:      func(v any, stack []byte) { e.panicked("tls connection", v, stack) },
	})
	if err != nil {
		e.tlsm.failed.Add(1)
		return
	}
	e.tlsm.handshakes.Add(1)
	if nc.State().DidResume {
		e.tlsm.resumed.Add(1)
	}
	nc.Serve(e.onPrepare(nc), e.onRequest)
}

// closeTLS stops accepting and closes every TLS connection (Close; Drain
// has let them finish first).
func (e *Engine) closeTLS() {
	_ = e.ln.Close()
	for _, c := range e.liveConns() {
		_ = c.nc.Close()
	}
}

// ReloadCertificates reads the listener's certificate files again and
// swaps them in: new handshakes get them, open connections keep theirs.
// On error the running certificates stay. Without TLS it does nothing.
func (e *Engine) ReloadCertificates() error {
	if e.tls == nil {
		return nil
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	return e.swapCertificates(e.snap.Load().cfg.TLS)
}

// swapCertificates loads t's files and swaps them in.
func (e *Engine) swapCertificates(t TLSConfig) error {
	certs, err := tlsconn.LoadServer(t.Files())
	if err != nil {
		e.tlsm.reloadsRejected.Add(1)
		return fmt.Errorf("tls: %w", err)
	}
	e.tls.Swap(certs)
	e.tlsm.reloads.Add(1)
	return nil
}

// tlsMetrics count the listener's handshakes and certificate reloads.
type tlsMetrics struct {
	handshakes, resumed, failed, reloads, reloadsRejected atomic.Int64
}

func (m *tlsMetrics) write(w io.Writer) {
	fmt.Fprintf(w, "# TYPE strait_tls_handshakes_total counter\nstrait_tls_handshakes_total %d\n", m.handshakes.Load())
	fmt.Fprintf(w, "# TYPE strait_tls_resumed_total counter\nstrait_tls_resumed_total %d\n", m.resumed.Load())
	fmt.Fprintf(w, "# TYPE strait_tls_handshake_errors_total counter\nstrait_tls_handshake_errors_total %d\n", m.failed.Load())
	fmt.Fprintf(w, "# TYPE strait_tls_certificate_reloads_total counter\nstrait_tls_certificate_reloads_total %d\n", m.reloads.Load())
	fmt.Fprintf(w, "# TYPE strait_tls_certificate_reloads_rejected_total counter\nstrait_tls_certificate_reloads_rejected_total %d\n", m.reloadsRejected.Load())
}
