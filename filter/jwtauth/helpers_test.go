package jwtauth

import (
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/testjwt"
)

var (
	newSigner = testjwt.New
	jwks      = testjwt.JWKS
	unsigned  = testjwt.Unsigned
	claimsAt  = testjwt.Claims
)

// fakeRequest is a filter.Request that records what filters do to it.
type fakeRequest struct {
	route    filter.Route
	headers  map[string]string
	meta     []filter.Field
	dropped  []string
	values   map[any]any
	upstream string
}

func newRequest(route filter.Route, headers ...string) *fakeRequest {
	r := &fakeRequest{route: route, headers: map[string]string{}, values: map[any]any{}}
	for i := 0; i+1 < len(headers); i += 2 {
		r.headers[headers[i]] = headers[i+1]
	}
	return r
}

func bearer(tok string) *fakeRequest {
	return newRequest(filter.Route{Service: "p.S", Method: "M"}, "authorization", "Bearer "+tok)
}

func (r *fakeRequest) Protocol() filter.Protocol { return filter.ProtocolREST }
func (r *fakeRequest) Method() string            { return "GET" }
func (r *fakeRequest) Path() string              { return "/" }
func (r *fakeRequest) Service() string           { return r.route.Service }
func (r *fakeRequest) RPC() string               { return "/" + r.route.Service + "/" + r.route.Method }
func (r *fakeRequest) ClientIP() string          { return "127.0.0.1" }
func (r *fakeRequest) RequestID() string         { return "id" }
func (r *fakeRequest) Header(name string) string { return r.headers[name] }
func (r *fakeRequest) Identity() string          { return "" }
func (r *fakeRequest) SetMetadata(name, value string) {
	r.meta = append(r.meta, filter.Field{Name: name, Value: value})
}
func (r *fakeRequest) SetUpstream(name string)  { r.upstream = name }
func (r *fakeRequest) Value(key any) any        { return r.values[key] }
func (r *fakeRequest) SetValue(key, value any)  { r.values[key] = value }
func (r *fakeRequest) Route() filter.Route      { return r.route }
func (r *fakeRequest) DropMetadata(name string) { r.dropped = append(r.dropped, name) }

// staticFilter is a filter of one rule over a JWKS of ss.
func staticFilter(t testing.TB, rule Rule, ss ...testjwt.Key) *Filter {
	t.Helper()
	k, err := StaticKeys("test", jwks(t, ss...))
	if err != nil {
		t.Fatal(err)
	}
	rule.Keys = k
	f, err := New([]Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// run calls OnRequest and, for a suspension, waits for resume.
func run(t testing.TB, f *Filter, r filter.Request) filter.Result {
	t.Helper()
	ch := make(chan filter.Result, 1)
	res := f.OnRequest(r, func(res filter.Result) { ch <- res })
	if res.Verdict != filter.VerdictSuspend {
		return res
	}
	select {
	case res = <-ch:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("suspended request never resumed")
	}
	return res
}

// describe renders a result for comparisons: "continue", or the code,
// message and headers of a rejection.
func describe(res filter.Result) string {
	switch res.Verdict {
	case filter.VerdictContinue:
		return "continue"
	case filter.VerdictSuspend:
		return "suspend"
	}
	var b strings.Builder
	b.WriteString(res.Status.Code.String() + ": " + res.Status.Message)
	for _, h := range res.Headers {
		b.WriteString(" | " + h.Name + ": " + h.Value)
	}
	return b.String()
}
