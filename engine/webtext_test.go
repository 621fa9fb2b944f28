package engine

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // the upstream reads and answers gzip
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/testutil"
)

// TestWebTextSplits sends grpc-web-text bidi streams over h2 whose DATA
// frames are cut anywhere, a character or a few at a time across the
// 4-character groups and the padding of per-message base64 runs, with
// gzip messages, and checks that the upstream reads every message and the
// client gets every echo back. STRAIT_SEED replays a run.
func TestWebTextSplits(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("STRAIT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (replay with STRAIT_SEED=%d)", seed, seed)
	var mu sync.Mutex
	seen := map[string][][]byte{}
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		id := c.MD.Get("x-round")[0]
		for m := c.Req; ; {
			mu.Lock()
			seen[id] = append(seen[id], bytes.Clone(m))
			mu.Unlock()
			echo := testutil.RawMsg(m)
			if err := c.Stream.SendMsg(&echo); err != nil {
				return nil, err
			}
			var next testutil.RawMsg
			if err := c.Stream.RecvMsg(&next); errors.Is(err, io.EOF) {
				return nil, nil
			} else if err != nil {
				return nil, status.Error(codes.Internal, err.Error())
			}
			m = next
		}
	})
	e := startGateway(t, up, nil)
	r := rand.New(rand.NewPCG(seed, 0))
	for round := range 30 {
		id := strconv.Itoa(round)
		msgs, body := textBody(r)
		got, err := webTextBidi(e.Addr().String(), id, cutText(r, body), r.IntN(2) == 0)
		mu.Lock()
		upstream := seen[id]
		mu.Unlock()
		switch {
		case err != nil:
			t.Fatalf("round %d (%d messages, %d characters): %v", round, len(msgs), len(body), err)
		case !equalMsgs(upstream, msgs):
			t.Fatalf("round %d: the upstream read %d messages; want %d, as sent", round, len(upstream), len(msgs))
		case !equalMsgs(got, msgs):
			t.Fatalf("round %d: the client got %d echoes; want %d, as sent", round, len(got), len(msgs))
		}
	}
}

// textBody makes 1 to 5 messages and the grpc-web-text body carrying
// them gzipped: one base64 run, or one padded run per message.
func textBody(r *rand.Rand) ([][]byte, []byte) {
	var msgs [][]byte
	var frames [][]byte
	for range 1 + r.IntN(5) {
		m := make([]byte, r.IntN([]int{8, 300, 20 << 10}[r.IntN(3)]))
		for i := range m {
			m[i] = byte(r.Uint32())
		}
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		_, _ = w.Write(m)
		_ = w.Close()
		f := binary.BigEndian.AppendUint32([]byte{1}, uint32(z.Len()))
		msgs, frames = append(msgs, m), append(frames, append(f, z.Bytes()...))
	}
	if r.IntN(2) == 0 {
		return msgs, base64.StdEncoding.AppendEncode(nil, bytes.Join(frames, nil))
	}
	var body []byte
	for _, f := range frames {
		body = base64.StdEncoding.AppendEncode(body, f)
	}
	return msgs, body
}

// cutText cuts body into DATA payloads: mostly a few characters, so
// that groups and padding straddle frames, sometimes up to a frame.
func cutText(r *rand.Rand, body []byte) [][]byte {
	var pieces [][]byte
	for len(body) > 0 {
		n := 1 + r.IntN(7)
		if r.IntN(3) == 0 {
			n = 1 + r.IntN(16<<10)
		}
		n = min(n, len(body))
		pieces, body = append(pieces, body[:n]), body[n:]
	}
	return pieces
}

func equalMsgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// webTextBidi makes one grpc-web-text call on a connection of its own,
// writing each piece as one DATA frame within the gateway's windows
// (END_STREAM on the last, or on an empty frame after it when endApart),
// and returns the response's messages, gunzipped.
func webTextBidi(addr, id string, pieces [][]byte, endApart bool) ([][]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	h := &h2Peer{fr: http2.NewFramer(c, c), conn: 65535, stream: 65535, done: make(chan error, 1)}
	h.cond = sync.NewCond(&h.mu)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		return nil, err
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", "t"},
		{":path", "/bookstore.v1.Bookstore/ListShelves"}, {"content-type", "application/grpc-web-text"},
		{"grpc-encoding", "gzip"}, {"grpc-accept-encoding", "gzip"}, {"x-round", id}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	h.mu.Lock()
	err = errors.Join(h.fr.WriteSettings(), h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}))
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	go h.read()
	for i, p := range pieces {
		if err := h.writeData(p, i == len(pieces)-1 && !endApart); err != nil {
			return nil, err
		}
	}
	if endApart {
		if err := h.writeData(nil, true); err != nil {
			return nil, err
		}
	}
	if err := <-h.done; err != nil {
		return nil, err
	}
	return parseWebText(h.body)
}

// h2Peer is the client side of one stream (id 1) on a raw connection.
type h2Peer struct {
	fr     *http2.Framer
	mu     sync.Mutex // fr's writes and the windows
	cond   *sync.Cond
	conn   int64 // send windows
	stream int64
	body   []byte // response DATA; read's alone until done
	done   chan error
}

func (h *h2Peer) writeData(p []byte, end bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for int64(len(p)) > min(h.conn, h.stream) {
		h.cond.Wait()
	}
	h.conn -= int64(len(p))
	h.stream -= int64(len(p))
	return h.fr.WriteData(1, end, p)
}

// read takes frames until the response ends: it returns the window of
// what it reads at once and applies the gateway's window updates.
func (h *h2Peer) read() {
	dec := hpack.NewDecoder(4096, nil)
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			h.end(err)
			return
		}
		h.mu.Lock()
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
					h.stream += int64(v) - 65535
				}
				err = h.fr.WriteSettingsAck()
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				h.conn += int64(f.Increment)
			} else {
				h.stream += int64(f.Increment)
			}
		case *http2.HeadersFrame:
			var fs []hpack.HeaderField
			if fs, err = dec.DecodeFull(f.HeaderBlockFragment()); err == nil {
				err = trailersOnlyError(fs)
			}
		case *http2.DataFrame:
			h.body = append(h.body, f.Data()...)
			if n := uint32(len(f.Data())); n > 0 {
				err = errors.Join(h.fr.WriteWindowUpdate(0, n), h.fr.WriteWindowUpdate(1, n))
			}
		case *http2.RSTStreamFrame:
			err = fmt.Errorf("stream reset: %v", f.ErrCode)
		case *http2.GoAwayFrame:
			err = fmt.Errorf("GOAWAY %v", f.ErrCode)
		}
		h.cond.Broadcast()
		h.mu.Unlock()
		if end, ok := f.(interface{ StreamEnded() bool }); err != nil || ok && end.StreamEnded() {
			h.end(err)
			return
		}
	}
}

func (h *h2Peer) end(err error) {
	h.done <- err
	h.mu.Lock()
	h.conn, h.stream = 1<<40, 1<<40 // the writer stops waiting
	h.cond.Broadcast()
	h.mu.Unlock()
}

// trailersOnlyError reads a gateway or upstream status sent in headers.
func trailersOnlyError(fs []hpack.HeaderField) error {
	for _, f := range fs {
		if f.Name == "grpc-status" && f.Value != "0" {
			return fmt.Errorf("status %s in headers: %v", f.Value, fs)
		}
	}
	return nil
}

// parseWebText decodes a grpc-web-text response: messages, gunzipped,
// then a trailer frame with grpc-status 0.
func parseWebText(text []byte) ([][]byte, error) {
	var d textDecoder
	b, err := d.decode(nil, text, true)
	if err != nil {
		return nil, err
	}
	var msgs [][]byte
	for len(b) >= 5 {
		flag, n := b[0], int(binary.BigEndian.Uint32(b[1:5]))
		if len(b)-5 < n {
			break
		}
		p := b[5 : 5+n]
		b = b[5+n:]
		switch {
		case flag&0x80 != 0:
			if !strings.Contains(string(p), "grpc-status: 0") || len(b) > 0 {
				return msgs, fmt.Errorf("trailer frame %q, %d bytes after it", p, len(b))
			}
			return msgs, nil
		case flag&1 != 0:
			zr, err := gzip.NewReader(bytes.NewReader(p))
			if err != nil {
				return msgs, err
			}
			if p, err = io.ReadAll(zr); err != nil {
				return msgs, err
			}
		}
		msgs = append(msgs, p)
	}
	return msgs, fmt.Errorf("no trailer frame after %d messages (%d bytes left)", len(msgs), len(b))
}
