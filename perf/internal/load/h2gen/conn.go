package h2gen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/perf/internal/reqhdr"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Our receive windows: large, so the server never waits on us; returned
// when half is used.
const (
	streamWindow = 1 << 24
	connWindow   = 1 << 30
)

// errStopped ends a request that was in flight when the run ended: it is
// counted neither way, as with h2load -D.
var errStopped = errors.New("h2gen: run over")

// failure is a request that did not succeed, by kind; conn says the
// connection cannot carry another request.
type failure struct {
	kind, sample string
	conn         bool
}

func (f *failure) Error() string { return f.kind + ": " + f.sample }

// response is the state of the request in flight.
type response struct {
	sid                  uint32
	stream               int64 // our send window on it
	status               int
	grpcStatus, grpcMsg  string
	headersDone, ended   bool
	endAfterContinuation bool
	keep                 bool   // gather the body
	body                 []byte // reused across requests
	recv                 int64  // received, not yet returned
}

// worker owns one connection (replaced when it breaks) and its figures.
type worker struct {
	cfg     *Config
	end     time.Time
	started *atomic.Int64
	gen     *reqhdr.Gen

	nc   net.Conn
	bw   *bufio.Writer
	fr   *http2.Framer
	enc  *hpack.Encoder
	hbuf bytes.Buffer
	dec  *hpack.Decoder
	sid  uint32

	sendConn, sendInit int64 // peer's windows for our DATA
	maxFrame           int
	recvConn           int64 // received, not yet returned
	goaway             bool

	resp response // the one in flight

	n                   int // requests on this worker, for sampling
	ok, failed          int64
	verified, badBodies int64
	reconnects          int64
	errs                map[string]int64
	samples             map[string]string
	lat                 []uint32
}

func newWorker(cfg *Config, i int, end time.Time, started *atomic.Int64) *worker {
	w := &worker{cfg: cfg, end: end, started: started, errs: map[string]int64{}, samples: map[string]string{}}
	if cfg.Vary {
		w.gen = reqhdr.NewGen(cfg.Seed, uint64(i))
	}
	return w
}

func (w *worker) run(ctx context.Context) {
	defer w.close()
	for ctx.Err() == nil && time.Now().Before(w.end) {
		if w.nc == nil {
			if err := w.dial(); err != nil {
				w.count(&failure{kind: "connect", sample: err.Error(), conn: true})
				sleepUntil(ctx, time.Now().Add(100*time.Millisecond), w.end)
				continue
			}
		}
		if w.cfg.Count > 0 && w.started.Add(1) > w.cfg.Count {
			return
		}
		t0 := time.Now()
		err := w.do()
		switch {
		case err == nil:
			w.ok++
			w.lat = append(w.lat, uint32(min(time.Since(t0)/time.Microsecond, 1<<32-1)))
		case errors.Is(err, errStopped):
			return
		default:
			var f *failure
			if !errors.As(err, &f) {
				f = &failure{kind: "conn", sample: err.Error(), conn: true}
			}
			w.count(f)
			if f.conn {
				w.close()
			}
		}
		if w.goaway || w.sid > 1<<31-100 {
			w.close()
		}
	}
}

func (w *worker) count(f *failure) {
	w.failed++
	w.errs[f.kind]++
	if w.samples[f.kind] == "" {
		w.samples[f.kind] = f.sample
	}
}

func sleepUntil(ctx context.Context, t, end time.Time) {
	if end.Before(t) {
		t = end
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

func (w *worker) close() {
	if w.nc != nil {
		w.nc.Close()
		w.nc = nil
	}
}

// dial opens a connection: preface, our SETTINGS and connection window, in
// one write. The server's SETTINGS are taken as they arrive.
func (w *worker) dial() error {
	if w.n > 0 || w.ok+w.failed > 0 {
		w.reconnects++
	}
	d := net.Dialer{Deadline: w.end}
	nc, err := d.Dial("tcp", w.cfg.Addr)
	if err != nil {
		return err
	}
	if w.cfg.TLS {
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return err
		}
		nc = tc
	}
	w.nc = nc
	w.bw = bufio.NewWriterSize(nc, 32<<10)
	w.fr = http2.NewFramer(w.bw, bufio.NewReaderSize(nc, 64<<10))
	w.fr.SetReuseFrames()
	w.hbuf.Reset()
	w.enc = hpack.NewEncoder(&w.hbuf)
	w.dec = hpack.NewDecoder(4096, w.emit)
	w.sid, w.goaway = 1, false
	w.sendConn, w.sendInit, w.maxFrame, w.recvConn = 65535, 65535, 16384, 0
	w.bw.WriteString(http2.ClientPreface)
	w.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow})
	w.fr.WriteWindowUpdate(0, connWindow-65535)
	return nil // flushed with the first request
}

// do sends one request and reads its response.
func (w *worker) do() error {
	w.n++
	deadline := time.Now().Add(w.cfg.Timeout)
	if w.end.Before(deadline) {
		deadline = w.end
	}
	w.nc.SetDeadline(deadline)
	r := &w.resp
	*r = response{sid: w.sid, stream: w.sendInit, body: r.body[:0]}
	sample := w.cfg.Sample > 0 && w.cfg.Verify != nil && w.n%w.cfg.Sample == 0
	r.keep = sample || w.cfg.Mode == ModeGRPCWeb
	w.sid += 2
	if err := w.writeRequest(); err != nil {
		return w.ioErr(err)
	}
	for !r.ended {
		if err := w.readFrame(); err != nil {
			return w.ioErr(err)
		}
	}
	if err := w.judge(); err != nil {
		return err
	}
	if sample {
		w.verified++
		if err := w.cfg.Verify(r.body); err != nil {
			w.badBodies++
			return &failure{kind: "wrong body", sample: err.Error()}
		}
	}
	return nil
}

// ioErr classifies a read or write error; past the end of the run it is
// errStopped.
func (w *worker) ioErr(err error) error {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if !time.Now().Before(w.end) {
			return errStopped
		}
		return &failure{kind: "timeout", sample: fmt.Sprintf("no response within %v", w.cfg.Timeout), conn: true}
	}
	return &failure{kind: "conn", sample: err.Error(), conn: true}
}

// judge decides a finished response.
func (w *worker) judge() error {
	r := &w.resp
	if r.status != 200 {
		return &failure{kind: "status " + strconv.Itoa(r.status), sample: snippet(r.body)}
	}
	switch w.cfg.Mode {
	case ModeGRPC:
		if r.grpcStatus == "" {
			return &failure{kind: "no grpc-status"}
		}
	case ModeGRPCWeb:
		if r.grpcStatus == "" {
			st, msg, err := webTrailer(r.body)
			if err != nil {
				return &failure{kind: "bad grpc-web body", sample: err.Error()}
			}
			r.grpcStatus, r.grpcMsg = st, msg
		}
	}
	if r.grpcStatus != "" && r.grpcStatus != "0" {
		return &failure{kind: "grpc-status " + r.grpcStatus, sample: r.grpcMsg}
	}
	return nil
}

func snippet(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// writeRequest writes HEADERS (+ CONTINUATION) and the body as DATA within
// the peer's windows, then flushes: one write syscall when the windows
// allow.
func (w *worker) writeRequest() error {
	c := w.cfg
	w.hbuf.Reset()
	w.enc.WriteField(hpack.HeaderField{Name: ":method", Value: c.Method})
	w.enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "http"})
	w.enc.WriteField(hpack.HeaderField{Name: ":authority", Value: c.Authority})
	w.enc.WriteField(hpack.HeaderField{Name: ":path", Value: c.Path})
	for _, f := range c.Header {
		w.enc.WriteField(f)
	}
	if w.gen != nil {
		id, auth := w.gen.Next()
		w.enc.WriteField(hpack.HeaderField{Name: reqhdr.IDName, Value: id})
		w.enc.WriteField(hpack.HeaderField{Name: reqhdr.AuthName, Value: auth})
	}
	block := w.hbuf.Bytes()
	sid := w.resp.sid
	first := min(len(block), w.maxFrame)
	err := w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: sid, BlockFragment: block[:first],
		EndStream: len(c.Body) == 0, EndHeaders: first == len(block)})
	for block = block[first:]; err == nil && len(block) > 0; {
		n := min(len(block), w.maxFrame)
		err = w.fr.WriteContinuation(sid, n == len(block), block[:n])
		block = block[n:]
	}
	if w.recvConn > connWindow/2 {
		w.fr.WriteWindowUpdate(0, uint32(w.recvConn))
		w.recvConn = 0
	}
	for body := c.Body; err == nil && len(body) > 0 && !w.resp.ended; {
		n := int(min(int64(len(body)), int64(w.maxFrame), w.sendConn, w.resp.stream))
		if n <= 0 { // wait for WINDOW_UPDATE
			if err = w.bw.Flush(); err == nil {
				err = w.readFrame()
			}
			continue
		}
		err = w.fr.WriteData(sid, n == len(body), body[:n])
		w.sendConn -= int64(n)
		w.resp.stream -= int64(n)
		body = body[n:]
	}
	if err == nil {
		err = w.bw.Flush()
	}
	return err
}

// readFrame reads and handles one frame.
func (w *worker) readFrame() error {
	f, err := w.fr.ReadFrame()
	if err != nil {
		var se http2.StreamError
		if errors.As(err, &se) {
			return &failure{kind: "protocol", sample: err.Error(), conn: true}
		}
		return err
	}
	r := &w.resp
	switch f := f.(type) {
	case *http2.HeadersFrame:
		if f.StreamID != r.sid {
			return &failure{kind: "protocol", sample: fmt.Sprintf("HEADERS on stream %d, want %d", f.StreamID, r.sid), conn: true}
		}
		r.endAfterContinuation = f.StreamEnded()
		return w.headerBlock(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.ContinuationFrame:
		return w.headerBlock(f.HeaderBlockFragment(), f.HeadersEnded())
	case *http2.DataFrame:
		n := int64(f.Length)
		w.recvConn += n
		if f.StreamID != r.sid {
			return nil // a stream we gave up on
		}
		if r.keep || r.status != 200 {
			r.body = append(r.body, f.Data()...)
		}
		r.recv += n
		r.ended = f.StreamEnded()
		if r.recv > streamWindow/2 && !r.ended {
			w.fr.WriteWindowUpdate(r.sid, uint32(r.recv))
			r.recv = 0
			return w.bw.Flush()
		}
	case *http2.RSTStreamFrame:
		if f.StreamID == r.sid {
			return &failure{kind: "rst_stream " + f.ErrCode.String()}
		}
	case *http2.GoAwayFrame:
		w.goaway = true
		if f.LastStreamID < r.sid {
			return &failure{kind: "goaway " + f.ErrCode.String(), sample: string(f.DebugData()), conn: true}
		}
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if err := f.ForeachSetting(w.setting); err != nil {
			return &failure{kind: "protocol", sample: err.Error(), conn: true}
		}
		w.fr.WriteSettingsAck()
		return w.bw.Flush()
	case *http2.PingFrame:
		if !f.IsAck() { // the ack leaves with the next write
			w.fr.WritePing(true, f.Data)
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			w.sendConn += int64(f.Increment)
		} else if f.StreamID == r.sid {
			r.stream += int64(f.Increment)
		}
	}
	return nil
}

func (w *worker) setting(s http2.Setting) error {
	switch s.ID {
	case http2.SettingInitialWindowSize:
		w.resp.stream += int64(s.Val) - w.sendInit
		w.sendInit = int64(s.Val)
	case http2.SettingMaxFrameSize:
		w.maxFrame = int(s.Val)
	case http2.SettingHeaderTableSize:
		w.enc.SetMaxDynamicTableSizeLimit(s.Val)
	}
	return nil
}

// headerBlock decodes a fragment; at the block's end the response headers
// (or trailers) are complete.
func (w *worker) headerBlock(frag []byte, end bool) error {
	if _, err := w.dec.Write(frag); err != nil {
		return &failure{kind: "hpack", sample: err.Error(), conn: true}
	}
	if !end {
		return nil
	}
	if err := w.dec.Close(); err != nil {
		return &failure{kind: "hpack", sample: err.Error(), conn: true}
	}
	r := &w.resp
	r.headersDone = true
	r.ended = r.endAfterContinuation
	return nil
}

// emit takes the fields of the response's header blocks.
func (w *worker) emit(f hpack.HeaderField) {
	r := &w.resp
	switch f.Name {
	case ":status":
		if !r.headersDone {
			r.status, _ = strconv.Atoi(f.Value)
		}
	case "grpc-status":
		r.grpcStatus = f.Value
	case "grpc-message":
		r.grpcMsg = f.Value
	}
}
