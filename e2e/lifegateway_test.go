package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/testutil"
)

// lifeGateway is `strait serve --config` with one upstream over the
// given echo endpoints, under the defaults (no retry or ejection
// settings), and the process's RSS sampled every 100 ms. It runs the
// plain build: these tests measure memory and latency.
type lifeGateway struct {
	Listen, Admin string
	cmd           *exec.Cmd
	rss           *rssSampler
}

func startLifeGateway(t *testing.T, endpoints ...string) *lifeGateway {
	t.Helper()
	g := &lifeGateway{Listen: testutil.FreeAddr(t), Admin: testutil.FreeAddr(t)}
	cfg := fmt.Sprintf("listen: %s\nadmin: %s\ndescriptors: [%q]\nupstreams:\n  - name: echo\n    endpoints: [%s]\n",
		g.Listen, g.Admin, echoDescriptors(t), strings.Join(endpoints, ", "))
	p := filepath.Join(t.TempDir(), "strait.yaml")
	writeFile(t, p, cfg)
	g.cmd = runStraitBin(t, straitPlainBin(t), g.Listen, "serve", "--config", p)
	g.rss = startRSS(t, g.cmd.Process.Pid)
	return g
}

// gauges are the gateway's resource gauges at one moment.
type gauges struct {
	goroutines, streams, conns int
	rssKB                      int64
}

func (s gauges) String() string {
	return fmt.Sprintf("goroutines %d, upstream streams open %d, client connections open %d, RSS %.1f MB",
		s.goroutines, s.streams, s.conns, float64(s.rssKB)/1024)
}

func (g *lifeGateway) gauges(t *testing.T) gauges {
	t.Helper()
	m := metrics(t, g.Admin)
	rss, _ := readRSS(g.cmd.Process.Pid)
	return gauges{goroutines: m["strait_goroutines"], streams: m["strait_upstream_streams_open"],
		conns: m["strait_connections_open"], rssKB: rss}
}

// metrics reads every unlabeled value of strait's /metrics.
func metrics(t *testing.T, admin string) map[string]int {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			n, _ := strconv.Atoi(f[1])
			m[f[0]] = n
		}
	}
	return m
}

// goroutineSlack is how far above its idle baseline the gateway's
// goroutine count may settle: a redial of an endpoint that is down or
// hung (one goroutine per endpoint at most, for up to timeouts.connect)
// and a connection's short-lived teardown goroutine may be caught in a
// sample.
const goroutineSlack = 4

// baseline waits for the gateway to be idle (no client connection, no
// upstream stream) and returns its gauges.
func (g *lifeGateway) baseline(t *testing.T) gauges {
	t.Helper()
	var s gauges
	waitFor(t, "the gateway to be idle", func() bool {
		s = g.gauges(t)
		return s.conns == 0 && s.streams == 0
	})
	time.Sleep(200 * time.Millisecond) // goroutines of the closed connections end
	s = g.gauges(t)
	t.Logf("baseline: %v", s)
	return s
}

// settle checks that once the load stopped and its clients closed, the
// gateway returns to base within 15s: no upstream stream open, the
// client connections of base, goroutines within goroutineSlack.
func (g *lifeGateway) settle(t *testing.T, base gauges) gauges {
	t.Helper()
	start := time.Now()
	var s gauges
	for {
		s = g.gauges(t)
		if s.streams == base.streams && s.conns == base.conns && s.goroutines <= base.goroutines+goroutineSlack {
			t.Logf("settled in %v: %v (baseline %v)", time.Since(start).Round(time.Millisecond), s, base)
			return s
		}
		if time.Since(start) > 15*time.Second {
			t.Errorf("15s after the load stopped the gateway has not returned to its baseline: "+
				"goroutines %d (baseline %d, slack %d), upstream streams open %d (baseline %d), client connections open %d (baseline %d)",
				s.goroutines, base.goroutines, goroutineSlack, s.streams, base.streams, s.conns, base.conns)
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rssSampler reads a process's VmRSS every 100 ms.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	kb   []int64
	at   []time.Time
}

const maxRSSSamples = 6000 // 10 minutes

func startRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for range maxRSSSamples {
			kb, err := readRSS(pid)
			if err != nil {
				return // the process is gone
			}
			s.mu.Lock()
			s.kb, s.at = append(s.kb, kb), append(s.at, time.Now())
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		close(s.stop)
		<-s.done
	})
	return s
}

// peak is the largest sample taken in [from, to), and when.
func (s *rssSampler) peak(from, to time.Time) (kb int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.at {
		if !a.Before(from) && a.Before(to) && s.kb[i] > kb {
			kb, at = s.kb[i], a
		}
	}
	return kb, at
}

// over is the first sample in [from, to) above kb, or the zero time.
func (s *rssSampler) over(kb int64, from, to time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.at {
		if !a.Before(from) && a.Before(to) && s.kb[i] > kb {
			return a
		}
	}
	return time.Time{}
}

// samples is how many samples were taken in [from, to).
func (s *rssSampler) samples(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.at {
		if !a.Before(from) && a.Before(to) {
			n++
		}
	}
	return n
}

// readRSS is VmRSS of /proc/PID/status, in kB.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func mb(kb int64) float64 { return float64(kb) / 1024 }
