package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/perf/internal/harness"
	"github.com/straitgw/strait/perf/internal/load"
	"github.com/straitgw/strait/perf/internal/proc"
)

// gateway is one contender: strait or grpc-gateway, cleartext or TLS.
type gateway struct {
	name string
	tls  bool
	g    *harness.Gateway
}

func (gw *gateway) scheme() string {
	if gw.tls {
		return "https"
	}
	return "http"
}

// start launches the gateway on CPU 1 with GOMAXPROCS=1.
func start(env *harness.Env, name string, tlsOn bool, cert, key string) (*gateway, error) {
	gw := &gateway{name: name, tls: tlsOn}
	addr, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	env1 := []string{"GOMAXPROCS=1"}
	var p *harness.Proc
	if strings.HasPrefix(name, "strait") {
		args := []string{"serve", "--listen", addr, "--upstream", env.Upstream, "--descriptors", env.Desc}
		if tlsOn {
			args = append(args, "--tls-cert", cert, "--tls-key", key)
		}
		p, err = env.Procs.Start(name, harness.GatewayCPU, env1, env.Straits[harness.Strait], args...)
	} else {
		args := []string{"-kind", "grpcgateway", "-listen", addr, "-upstream", env.Upstream, "-descriptors", env.Desc}
		if tlsOn {
			args = append(args, "-tls-cert", cert, "-tls-key", key)
		}
		p, err = env.Procs.Start(name, harness.GatewayCPU, env1, filepath.Join(env.PerfDir, "bin", "peer"), args...)
	}
	if err != nil {
		return nil, err
	}
	if err := harness.WaitPort(p, addr, 20*time.Second); err != nil {
		p.Kill()
		return nil, err
	}
	gw.g = &harness.Gateway{Name: name, Addr: addr, Proc: p}
	return gw, nil
}

func run(ctx context.Context, o harness.Options, idle int) (string, error) {
	tmp, err := harness.TmpDir(o.PerfDir)
	if err != nil {
		return "", err
	}
	procs := &harness.Procs{Dir: tmp}
	defer procs.KillAll()
	env, err := harness.Setup(ctx, o, procs)
	if err != nil {
		return "", err
	}
	if err := env.StraitErrs[harness.Strait]; err != nil {
		return "", err
	}
	cert, key, err := writeCert(tmp)
	if err != nil {
		return "", err
	}
	var gws []*gateway
	for _, c := range []struct {
		name string
		tls  bool
	}{{"strait", false}, {"strait+tls", true}, {"grpc-gateway", false}, {"grpc-gateway+tls", true}} {
		gw, err := start(env, c.name, c.tls, cert, key)
		if err != nil {
			return "", fmt.Errorf("%s: %w", c.name, err)
		}
		gws = append(gws, gw)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# TLS on the listen port: strait and grpc-gateway, cleartext and TLS\n\n")
	fmt.Fprintf(&b, "Run %s; `make bench-tls%s`. Gateway on CPU %s alone (GOMAXPROCS=1); load tool and grpc-go upstream on CPU %s. "+
		"Medians of %d interleaved runs of %v (after a %v warm-up). TLS: ECDSA P-256 certificate, TLS 1.3, "+
		"X25519MLKEM768 key exchange (Go's defaults on both sides); strait serves TLS through tlsconn (a goroutine per connection), grpc-gateway through net/http and crypto/tls.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), map[bool]string{true: " QUICK=1"}[o.Quick], harness.GatewayCPU, harness.LoadCPU,
		o.Repeats, o.Duration, o.Warmup)

	cells := harness.Plan(false, []string{"rest-1k-h1", "rest-1k-h2c"})
	b.WriteString("## CPU per request (REST unary 1 KB, 64 connections, varied headers)\n\n")
	b.WriteString("| workload | gateway | req/s | CPU µs/req | vs cleartext | P99 | failed |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, c := range cells {
		if c.Conns != 64 {
			continue
		}
		runs := map[string][]harness.Run{}
		for r := -1; r < o.Repeats; r++ {
			for _, gw := range gws {
				d := o.Duration
				if r < 0 {
					d = o.Warmup
				}
				run := measure(ctx, o, c, gw, d, tmp)
				if r >= 0 {
					runs[gw.name] = append(runs[gw.name], run)
				}
			}
		}
		clear := map[string]time.Duration{}
		for _, gw := range gws {
			qps, cpu, p99, failed, errText := medians(runs[gw.name])
			base := strings.TrimSuffix(gw.name, "+tls")
			if !gw.tls {
				clear[base] = cpu
			}
			ratio := "1.00"
			if gw.tls && clear[base] > 0 {
				ratio = fmt.Sprintf("%.2f", float64(cpu)/float64(clear[base]))
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.1f | %s | %v | %s%s |\n", workloadLabel(c.W.Name), gw.name, qps,
				float64(cpu)/float64(time.Microsecond), ratio, p99.Round(10*time.Microsecond), failed, errText)
		}
	}

	b.WriteString("\n## Handshakes (16 concurrent clients, a new connection each, nothing sent)\n\n")
	b.WriteString("| gateway | kind | handshakes/s | gateway CPU µs/handshake | handshakes per gateway CPU-second |\n|---|---|---:|---:|---:|\n")
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	for _, resume := range []bool{false, true} {
		res := map[string][]hsRun{}
		for r := -1; r < o.Repeats; r++ {
			for _, gw := range gws {
				if !gw.tls {
					continue
				}
				d := o.Duration
				if r < 0 {
					d = o.Warmup
				}
				h, err := handshakes(ctx, self, gw, d, resume)
				if err != nil {
					return "", err
				}
				if r >= 0 {
					res[gw.name] = append(res[gw.name], h)
				}
			}
		}
		for _, gw := range gws {
			if !gw.tls {
				continue
			}
			hs := res[gw.name]
			slices.SortFunc(hs, func(a, b hsRun) int { return int(a.cpuPer - b.cpuPer) })
			m := hs[len(hs)/2]
			kind := map[bool]string{false: "full (TLS 1.3, ECDHE + ECDSA)", true: "resumed (session ticket)"}[resume]
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %.0f |\n", gw.name, kind, m.rate,
				float64(m.cpuPer)/float64(time.Microsecond), float64(time.Second)/float64(m.cpuPer))
		}
	}

	fmt.Fprintf(&b, "\n## Memory per idle connection (%d connections, each after one HTTP/1.1 request)\n\n", idle)
	b.WriteString("| gateway | RSS before | RSS with the connections | KiB per connection |\n|---|---:|---:|---:|\n")
	for _, gw := range gws {
		before, with, err := idleMemory(gw, idle)
		if err != nil {
			fmt.Fprintf(&b, "| %s | failed: %v | | |\n", gw.name, err)
			continue
		}
		fmt.Fprintf(&b, "| %s | %.1f MiB | %.1f MiB | %.1f |\n", gw.name, float64(before)/1024, float64(with)/1024, float64(with-before)/float64(idle))
	}
	b.WriteString("\nNotes: CPU µs/req is the gateway's utime+stime over the run divided by successful requests (wrk counts 2xx; h2gen " +
		"checks the status and a sample of bodies). A handshake run counts handshakes the client completed; its gateway CPU includes " +
		"accepting and closing the connection. Idle memory is VmRSS after the connections are open and idle (the Go runtime returns " +
		"memory lazily, so it is approximate), minus VmRSS before.\n")
	return b.String(), ctx.Err()
}

func workloadLabel(name string) string {
	switch name {
	case "rest-1k-h1":
		return "REST 1 KB, HTTP/1.1"
	case "rest-1k-h2c":
		return "REST 1 KB, h2"
	}
	return name
}

// measure runs one load run against gw and reads its CPU around it.
func measure(ctx context.Context, o harness.Options, c harness.Cell, gw *gateway, d time.Duration, tmp string) harness.Run {
	spec := harness.Spec(o, c, gw.g.Addr, d, tmp)
	spec.URL = strings.Replace(spec.URL, "http://", gw.scheme()+"://", 1)
	pid := gw.g.Proc.Pid
	before, err := proc.Read(pid)
	if err != nil {
		return harness.Run{Err: err}
	}
	tool := load.Wrk
	if c.W.Tool != harness.ToolWrk {
		tool = load.H2gen
	}
	res, err := tool(ctx, spec)
	after, rerr := proc.Read(pid)
	if rerr != nil {
		return harness.Run{Err: rerr}
	}
	r := harness.Run{Result: res, Err: err}
	if res.Requests > 0 {
		r.CPUPerReq = (after.CPU - before.CPU) / time.Duration(res.Requests)
	}
	return r
}

func medians(rs []harness.Run) (qps float64, cpu, p99 time.Duration, failed, errText string) {
	var qs []float64
	var cs, ps []time.Duration
	var nfail int64
	for _, r := range rs {
		if r.Err != nil {
			errText = " (" + r.Err.Error() + ")"
			if len(errText) > 80 {
				errText = errText[:80] + "...)"
			}
			continue
		}
		qs, cs, ps = append(qs, r.QPS), append(cs, r.CPUPerReq), append(ps, r.P99)
		nfail += r.Errors
	}
	if len(qs) == 0 {
		return 0, 0, 0, "all", errText
	}
	slices.Sort(qs)
	slices.Sort(cs)
	slices.Sort(ps)
	return qs[len(qs)/2], cs[len(cs)/2], ps[len(ps)/2], strconv.FormatInt(nfail, 10), errText
}

type hsRun struct {
	rate   float64
	cpuPer time.Duration
}

// handshakes runs the handshake client (this binary, pinned to the load
// CPU) against gw for d.
func handshakes(ctx context.Context, self string, gw *gateway, d time.Duration, resume bool) (hsRun, error) {
	before, err := proc.Read(gw.g.Proc.Pid)
	if err != nil {
		return hsRun{}, err
	}
	cmd := exec.CommandContext(ctx, "taskset", "-c", harness.LoadCPU, self, "-handshake-client", gw.g.Addr,
		"-duration", d.String(), "-resume="+strconv.FormatBool(resume))
	out, err := cmd.Output()
	if err != nil {
		return hsRun{}, fmt.Errorf("handshake client: %w", err)
	}
	after, err := proc.Read(gw.g.Proc.Pid)
	if err != nil {
		return hsRun{}, err
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if n == 0 {
		return hsRun{}, fmt.Errorf("handshake client: no handshake completed (%s)", out)
	}
	return hsRun{rate: float64(n) / d.Seconds(), cpuPer: (after.CPU - before.CPU) / time.Duration(n)}, nil
}

// handshakeClient completes as many handshakes as it can for d with
// conns goroutines (each a new connection, closed at once) and prints
// the count.
func handshakeClient(addr string, conns int, d time.Duration, resume bool) {
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
	if resume {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(conns)
	}
	var n atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for time.Now().Before(end) {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
				if err != nil {
					continue
				}
				if resume && !c.ConnectionState().DidResume {
					// TLS 1.3 tickets arrive after the handshake: read one.
					_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
					_, _ = c.Read(make([]byte, 1))
				}
				c.Close()
				n.Add(1)
			}
		})
	}
	wg.Wait()
	fmt.Println(n.Load())
}

// idleMemory opens n connections to gw, each with one HTTP/1.1 request
// answered, and reports the gateway's VmRSS in KiB before and with them.
func idleMemory(gw *gateway, n int) (before, with int64, err error) {
	rss := func() (int64, error) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", gw.g.Proc.Pid))
		if err != nil {
			return 0, err
		}
		return proc.ParseStatusKB(b, "VmRSS")
	}
	time.Sleep(time.Second)
	if before, err = rss(); err != nil {
		return
	}
	const req = "POST /v1/ping HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 100)
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", gw.g.Addr, 10*time.Second)
			if err == nil && gw.tls {
				tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
				err = tc.Handshake()
				c = tc
			}
			if err == nil {
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err = io.WriteString(c, req); err == nil {
					var resp *http.Response
					if resp, err = http.ReadResponse(bufio.NewReader(c), nil); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}
			if err != nil {
				failed.Add(1)
				if c != nil {
					c.Close()
				}
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if f := failed.Load(); f > int64(n)/100 {
		return 0, 0, fmt.Errorf("%d of %d connections failed", f, n)
	}
	time.Sleep(2 * time.Second)
	with, err = rss()
	return before, with, err
}

// writeCert makes a self-signed ECDSA P-256 certificate for 127.0.0.1.
func writeCert(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "bench.crt"), filepath.Join(dir, "bench.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
}
