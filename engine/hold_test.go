package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/testutil"
)

// TestHeldBody: request bytes that reach the gateway while no upstream
// stream is open are held for the next attempt, never dropped: a client
// stream still sending through a retry policy's backoff; one that ended
// before the upstream failed it (the resend must end too); one whose
// filter let it go on before its body came.
func TestHeldBody(t *testing.T) {
	saved := jitter
	jitter = func() float64 { return 1 } // every backoff is InitialBackoff
	t.Cleanup(func() { jitter = saved })
	msgs := make([]string, 4)
	for i := range msgs {
		msgs[i] = fmt.Sprintf("%d:%0900d", i, i)
	}
	for _, tc := range []struct {
		name string
		send func(h *holdTest, st grpc.ClientStream) error
		want [][]string // the messages each upstream attempt read
	}{
		{"backoff", func(h *holdTest, st grpc.ClientStream) error {
			if err := errors.Join(h.send(st, msgs[:1]), h.wait(h.failed)); err != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond) // the failure reaches the gateway: its backoff runs
			return errors.Join(h.send(st, msgs[1:]), st.CloseSend())
		}, [][]string{msgs[:1], msgs}},
		{"ended", func(h *holdTest, st grpc.ClientStream) error {
			return errors.Join(h.send(st, msgs), st.CloseSend())
		}, [][]string{msgs, msgs}},
		{"filter", func(h *holdTest, st grpc.ClientStream) error {
			if err := h.wait(h.resumed); err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond) // the stream is open, empty
			return errors.Join(h.send(st, msgs), st.CloseSend())
		}, [][]string{msgs}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHoldTest(t, tc.name)
			h.call(t, "warm", func(st grpc.ClientStream) error { // no attempt parks from now on
				return errors.Join(h.send(st, msgs), st.CloseSend())
			})
			h.call(t, tc.name, func(st grpc.ClientStream) error { return tc.send(h, st) })
			if got := h.attempts(); !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("the upstream's attempts read %v messages; want %v", counts(got), counts(tc.want))
			}
		})
	}
}

// holdTest is a gateway whose service retries UNAVAILABLE after 500 ms
// and whose filter suspends the "filter" case, in front of an upstream
// that reads client streams whole, except that it fails the first
// attempt of "backoff" after one message and that of "ended" after all.
type holdTest struct {
	cc      *grpc.ClientConn
	failed  chan struct{} // the first attempt of "backoff" failed
	resumed chan struct{} // the filter let "filter" go on
	mu      sync.Mutex
	seen    [][]string // per attempt of the case under test
}

func startHoldTest(t *testing.T, name string) *holdTest {
	h := &holdTest{failed: make(chan struct{}, 1), resumed: make(chan struct{}, 1)}
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		if c.MD.Get("x-case")[0] != name {
			_, err := h.read(c)
			return []byte("ok"), err
		}
		if name == "backoff" && h.attempts() == nil {
			h.record([]string{string(c.Req)})
			h.failed <- struct{}{}
			return nil, status.Error(codes.Unavailable, "try again")
		}
		msgs, err := h.read(c)
		if err != nil {
			return nil, err
		}
		if h.record(msgs) == 1 && name == "ended" {
			return nil, status.Error(codes.Unavailable, "try again")
		}
		return []byte("ok"), nil
	})
	hold := filter.Func(func(r filter.Request, resume func(filter.Result)) filter.Result {
		if r.Header("x-case") != "filter" {
			return filter.Continue
		}
		go func() {
			resume(filter.Continue) // before the body comes: the stream opens empty
			h.resumed <- struct{}{}
		}()
		return filter.Suspend
	})
	e := startGateway(t, up, func(c *Config) {
		c.Services = []ServiceConfig{{Name: "bookstore.v1.Bookstore", Upstream: "default", Retry: RetryPolicy{
			MaxAttempts: 3, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
			RetryableStatusCodes: []string{"UNAVAILABLE"}}}}
		c.Filters = []filter.Entry{{Filter: hold}}
	})
	h.cc = grpcDial(t, e.Addr().String())
	return h
}

// read reads an attempt's messages up to the end of the request.
func (h *holdTest) read(c *testutil.Call) ([]string, error) {
	msgs := []string{string(c.Req)}
	for {
		var m testutil.RawMsg
		if err := c.Stream.RecvMsg(&m); errors.Is(err, io.EOF) {
			return msgs, nil
		} else if err != nil {
			return msgs, err
		}
		msgs = append(msgs, string(m))
	}
}

// record notes an attempt's messages and returns its number.
func (h *holdTest) record(msgs []string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, msgs)
	return len(h.seen)
}

func (h *holdTest) attempts() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen
}

// call makes a client-streaming call of case id, whose messages send
// writes, and expects "ok".
func (h *holdTest) call(t *testing.T, id string, send func(st grpc.ClientStream) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-case", id)
	st, err := testutil.RawStream(ctx, h.cc, "/bookstore.v1.Bookstore/CreateShelf", &grpc.StreamDesc{ClientStreams: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := send(st); err != nil {
		t.Fatalf("%s: sending: %v", id, err)
	}
	var out testutil.RawMsg
	if err := st.RecvMsg(&out); err != nil || string(out) != "ok" {
		t.Errorf("%s: got %q, %v; want ok", id, out, err)
	}
}

func (h *holdTest) send(st grpc.ClientStream, msgs []string) error {
	for _, s := range msgs {
		m := testutil.RawMsg(s)
		if err := st.SendMsg(&m); err != nil {
			return err
		}
	}
	return nil
}

func (h *holdTest) wait(ch chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("timed out waiting for the upstream or the filter")
	}
}

func counts(attempts [][]string) []int {
	n := make([]int, len(attempts))
	for i, a := range attempts {
		n[i] = len(a)
	}
	return n
}
