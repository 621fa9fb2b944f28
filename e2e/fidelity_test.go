package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"

	"github.com/straitgw/strait/internal/testutil"
)

var (
	seedFlag = flag.Uint64("seed", 0, "fidelity test seed (0: $STRAIT_SEED, else from the clock)")
	soakFlag = flag.Duration("soak", 0, "fidelity test duration (default $STRAIT_SOAK, else 30s)")
)

// fidelitySeed is -seed, $STRAIT_SEED or the clock; it is logged so a run
// can be replayed (each worker's cases follow from it; timing does not).
func fidelitySeed(t *testing.T) uint64 {
	seed := *seedFlag
	if s := os.Getenv("STRAIT_SEED"); seed == 0 && s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("STRAIT_SEED=%q: %v", s, err)
		}
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with STRAIT_SEED=%d or -seed %d)", seed, seed, seed)
	return seed
}

// fidelityDuration is the whole test's time: 30s, or a soak.
func fidelityDuration(t *testing.T) time.Duration {
	if *soakFlag > 0 {
		return *soakFlag
	}
	if s := os.Getenv("STRAIT_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("STRAIT_SOAK=%q: %v", s, err)
		}
		return d
	}
	return 30 * time.Second
}

const (
	workersPerProtocol = 3
	maxCallsPerWorker  = 50000
)

// TestFidelity drives the gateway with random calls over every protocol
// at once, through one upstream connection (one endpoint, then two), and
// checks every byte both ways against what the echo upstream saw.
func TestFidelity(t *testing.T) {
	seed := fidelitySeed(t)
	d := fidelityDuration(t)
	for i, endpoints := range []int{1, 2} {
		t.Run(fmt.Sprintf("endpoints=%d", endpoints), func(t *testing.T) {
			runFidelity(t, seed+uint64(i), endpoints, d/2)
		})
	}
}

func runFidelity(t *testing.T, seed uint64, endpoints int, d time.Duration) {
	g := startEchoGateway(t, endpoints, 1)
	cc, err := dialGRPC(g.Listen)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	var st fstats
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for p := range numProtocols {
		for w := range workersPerProtocol {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fw := newFidelityWorker(g, cc, p, rand.New(rand.NewPCG(seed, uint64(p)<<8|uint64(w))))
				defer fw.close()
				for n := 0; n < maxCallsPerWorker && time.Now().Before(stop); n++ {
					fw.one(&st, fmt.Sprintf("%s-%d-%d", p, w, n))
				}
			}()
		}
	}
	wg.Wait()
	if st.report(t) > 0 {
		t.Logf("seed %d", seed)
	}
	for i, s := range g.Echo {
		if n := s.Pending(); n != 0 {
			t.Errorf("endpoint %d: %d upstream calls no client call matched (late or lost): %v", i, n, s.PendingIDs())
		}
	}
	if n := metric(t, g.Admin, "strait_panics_total"); n != 0 {
		t.Errorf("strait_panics_total %d; want 0", n)
	}
}

// fidelityWorker is one client of one protocol, making calls in turn.
type fidelityWorker struct {
	g    *echoGateway
	p    protocol
	gen  gen
	cc   *grpc.ClientConn
	rest *restClient
	hc   *http.Client
	web  *connectSet
}

func newFidelityWorker(g *echoGateway, cc *grpc.ClientConn, p protocol, r *rand.Rand) *fidelityWorker {
	fw := &fidelityWorker{g: g, p: p, gen: gen{r}, cc: cc}
	base := "http://" + g.Listen
	switch p {
	case protoRESTH1, protoWebH1, protoTextH1:
		fw.hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	case protoRESTH2, protoWebH2, protoTextH2:
		fw.hc = testutil.H2CClient()
		fw.hc.Timeout = 0 // each call has its own deadline
	}
	switch p {
	case protoRESTH1, protoRESTH2:
		fw.rest = &restClient{addr: g.Listen, hc: fw.hc}
	case protoRESTRaw:
		fw.rest = &restClient{addr: g.Listen}
	case protoWebH1, protoWebH2:
		fw.web = newConnectSet(fw.hc, base, connect.WithGRPCWeb())
	}
	return fw
}

func (fw *fidelityWorker) close() {
	if fw.rest != nil {
		fw.rest.closeRaw()
	}
	if fw.hc != nil {
		fw.hc.CloseIdleConnections()
	}
}

// one makes a random call and checks it.
func (fw *fidelityWorker) one(st *fstats, id string) {
	c := fw.gen.newCase(id, fw.p)
	if fw.p == protoTextH1 || fw.p == protoTextH2 {
		// Our own client encodes before its deadline starts, so that it
		// covers the call, as the grpc-timeout it sends does: gzip of a
		// 1 MiB message under -race, while every worker starts at once
		// on 2 cores, took 4 s of a 13 s deadline.
		_, _ = c.webFrames()
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var o *outcome
	switch fw.p {
	case protoRESTH1, protoRESTRaw, protoRESTH2:
		o = fw.rest.call(ctx, c)
	case protoGRPC:
		o = grpcCall(ctx, fw.cc, c)
	case protoWebH1, protoWebH2:
		o = connectCall(ctx, fw.web.get(c.json, c.gzip), c)
	case protoTextH1, protoTextH2:
		o = webTextCall(ctx, fw.hc, fw.g.Listen, c)
	}
	took := time.Since(start)
	// A call that ended as asked has its upstream record already (the
	// echo server records before it answers); others may have none.
	wait := 3 * time.Second
	if _, code, _, _ := c.expected(); o.err != nil || o.code != code {
		wait = 300 * time.Millisecond
	}
	k := checker{c: c}
	k.check(o, fw.g.take(c.id, wait))
	st.add(c, o, k.errs, took)
}
