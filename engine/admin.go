package engine

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
)

// adminServer serves /metrics, /debug/pprof/, /healthz and /readyz with
// net/http: it is off the hot path, so a goroutine per admin request is fine.
type adminServer struct {
	ln  net.Listener
	srv *http.Server
}

func startAdmin(addr string, e *Engine) (*adminServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin %s: %w", addr, unwrapSyscall(err))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		e.metrics.write(w)
		e.writeTraffic(w)
		e.writeTraceMetrics(w)
		e.tlsm.write(w)
		fmt.Fprintf(w, "# TYPE strait_goroutines gauge\nstrait_goroutines %d\n", runtime.NumGoroutine())
		e.writeMetrics(w)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := e.ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/config_dump", e.configDump)
	mux.HandleFunc("/routes", e.routesPage)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a := &adminServer{ln: ln, srv: &http.Server{Handler: mux}}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

func (a *adminServer) addr() net.Addr { return a.ln.Addr() }
func (a *adminServer) close()         { _ = a.srv.Close() }

// ready reports whether every upstream has at least one live connection,
// dialing where none is open yet.
func (e *Engine) ready() error {
	select {
	case <-e.done:
		return fmt.Errorf("shutting down")
	default:
	}
	if e.draining.Load() {
		return fmt.Errorf("draining")
	}
	s := e.snap.Load()
	for i, p := range s.pools {
		if !p.Ready() {
			return fmt.Errorf("upstream %q: no ready connection", s.cfg.Upstreams[i].Name)
		}
	}
	return nil
}
