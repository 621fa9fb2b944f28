package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"

	pb "github.com/straitgw/strait/internal/echopb"
)

// The overload of the lifecycle issue: "an h2 client that sets
// SETTINGS_INITIAL_WINDOW_SIZE 0 and opens 100 streams asking 1 MiB
// replies makes strait hold about 1 MiB per stream; three such
// connections took it past 300 MB and every new client's request failed."
const (
	stallConns      = 4
	stallStreams    = 100              // per connection
	stallReply      = 1 << 20          // bytes each stream asks for
	stallHold       = 15 * time.Second // how long the stalled streams are held
	stallRSSLimit   = 200 << 10        // kB: the gateway's RSS must stay below
	stallMaxLatency = 3 * time.Second  // every well-behaved call (see below)
)

// TestStalledReaders: four raw h2 connections set
// SETTINGS_INITIAL_WINDOW_SIZE 0, open 100 streams each asking the echo
// upstream for about 1 MiB (gRPC server streams and REST NDJSON streams),
// never grant a byte of window, and stay 15s. Meanwhile well-behaved
// clients (REST over HTTP/1.1 on kept and on new connections, gRPC on a
// kept and on new connections) must each be answered within 3s, and the
// gateway's RSS, sampled every 100 ms, must stay under 200 MB. Once the
// stalled clients leave, the gateway returns to its idle baseline.
func TestStalledReaders(t *testing.T) {
	seed := fidelitySeed(t)
	a := startBackend(t, "a", "127.0.0.1:0")
	g := startLifeGateway(t, a.Addr)
	warm(t, g, a)
	base := g.baseline(t)
	l := startLifeLoadOf(t, g.Listen, seed, []lifeWorker{
		{protoRESTH1, false}, {protoRESTH1, true}, {protoGRPC, false}, {protoGRPC, true}})
	time.Sleep(time.Second)

	l.mark("stalling")
	r := rand.New(rand.NewPCG(seed, 99))
	var st []*staller
	for i := range stallConns {
		s, err := startStaller(g.Listen, fmt.Sprintf("stall-%d", i), r)
		if err != nil {
			t.Fatalf("stalled client %d: %v", i, err)
		}
		defer s.close()
		st = append(st, s)
	}
	l.mark("held")
	heldAt := time.Now()
	time.Sleep(stallHold)
	l.mark("released")
	for _, s := range st {
		s.close()
	}
	time.Sleep(time.Second)
	l.stop()

	var heads, resets, data, goaways int64
	for _, s := range st {
		heads, resets, data, goaways = heads+s.heads.Load(), resets+s.resets.Load(), data+s.data.Load(), goaways+s.goaways.Load()
	}
	t.Logf("stalled clients: %d connections × %d streams asking %d KiB each; got %d response HEADERS, %d RST_STREAM, %d GOAWAY, %d DATA bytes",
		stallConns, stallStreams, stallReply>>10, heads, resets, goaways, data)
	t.Logf("the upstream accepted %d connections from the gateway (1 before the stalled clients came)", a.accepted())
	from, to := l.when("stalling"), l.when("released")
	peak, at := g.rss.peak(from, to)
	crossed := g.rss.over(stallRSSLimit, from, to)
	t.Logf("RSS: baseline %.1f MB, peak %.1f MB %.1fs after the stalled clients came (%d samples)",
		mb(base.rssKB), mb(peak), at.Sub(from).Seconds(), g.rss.samples(from, to))
	if peak >= stallRSSLimit {
		t.Errorf("RSS reached %.1f MB with %d stalled streams; want under %.0f MB (first over %.0f MB %.1fs after they came, %.1fs into the hold)",
			mb(peak), stallConns*stallStreams, mb(stallRSSLimit), mb(stallRSSLimit), crossed.Sub(from).Seconds(), crossed.Sub(heldAt).Seconds())
	}

	// A call held behind the stalled streams waits for the 15s hold to
	// end (or fails); 3s leaves room for a loaded 2-core machine whose
	// test process also runs the upstream and 400 big server streams.
	c := l.report(t, nil, g.rss)
	held := l.phaseCounts("held", 0, nil)
	slow := l.slowerThan(stallMaxLatency)
	if slow > 0 || held.sent < 100 {
		t.Errorf("%d of %d well-behaved calls took over %v (max %v), %d made during the %v hold; want every one answered within %v",
			slow, c.sent, stallMaxLatency, c.max.Round(time.Millisecond), held.sent, stallHold, stallMaxLatency)
	}
	g.settle(t, base)
}

// staller is one raw h2 client (x/net Framer and hpack) that opens its
// streams with an initial window of 0 and never sends WINDOW_UPDATE. It
// answers SETTINGS and PING, as a live client does, and reads and drops
// everything else.
type staller struct {
	conn net.Conn
	wmu  sync.Mutex
	fr   *http2.Framer
	done chan struct{}

	heads, resets, data, goaways atomic.Int64
}

func startStaller(addr, name string, r *rand.Rand) (*staller, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	s := &staller{conn: c, fr: http2.NewFramer(c, c), done: make(chan struct{})}
	s.fr.ReadMetaHeaders = nil
	if _, err := c.Write([]byte(http2.ClientPreface)); err == nil {
		err = s.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	go s.read()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for i := range stallStreams {
		hb.Reset()
		id := uint32(2*i + 1)
		path, ctype, body := stallRequest(r)
		for _, f := range []hpack.HeaderField{
			{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
			{Name: ":authority", Value: addr}, {Name: ":path", Value: path},
			{Name: "content-type", Value: ctype}, {Name: "te", Value: "trailers"},
			{Name: "x-req-id", Value: name + "-" + strconv.Itoa(i)},
		} {
			_ = enc.WriteField(f)
		}
		s.wmu.Lock()
		err := s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true})
		if err == nil {
			err = s.fr.WriteData(id, true, body)
		}
		s.wmu.Unlock()
		if err != nil {
			s.close()
			return nil, fmt.Errorf("stream %d: %w", id, err)
		}
	}
	return s, nil
}

// stallRequest is a request for about stallReply bytes: a gRPC server
// stream or a REST NDJSON stream, in messages of 16 KiB to 256 KiB.
func stallRequest(r *rand.Rand) (path, ctype string, body []byte) {
	size := 16 << 10 << (2 * r.IntN(3)) // 16, 64 or 256 KiB
	m := &pb.EchoRequest{Count: int32(stallReply / size), Size: int32(size), Seed: r.Uint64()}
	if r.IntN(2) == 0 {
		return "/v1/echo:stream", "application/json",
			fmt.Appendf(nil, `{"count":%d,"size":%d,"seed":"%d"}`, m.Count, m.Size, m.Seed)
	}
	b, _ := proto.Marshal(m)
	msg := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(b)))
	return "/strait.test.v1.Echo/ServerStream", "application/grpc", append(msg, b...)
}

// read answers SETTINGS and PING and counts the rest until the
// connection ends.
func (s *staller) read() {
	defer close(s.done)
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				s.write(func() error { return s.fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				s.write(func() error { return s.fr.WritePing(true, f.Data) })
			}
		case *http2.HeadersFrame:
			s.heads.Add(1)
		case *http2.DataFrame:
			s.data.Add(int64(len(f.Data())))
		case *http2.RSTStreamFrame:
			s.resets.Add(1)
		case *http2.GoAwayFrame:
			s.goaways.Add(1)
		}
	}
}

func (s *staller) write(fn func() error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = fn()
}

func (s *staller) close() {
	s.conn.Close()
	<-s.done
}
