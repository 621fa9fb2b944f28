package engine

import (
	"github.com/straitgw/strait/internal/testutil"

	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestRESTOverHTTP1(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	c := dialH1(t, e.Addr().String())
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // substring of the body
	}{
		{"list", "GET", "/v1/shelves", "", 200, `"shelves"`},
		{"path variable", "GET", "/v1/shelves/1", "", 200, `"id":"1"`},
		{"upstream not found", "GET", "/v1/shelves/999", "", 404, `"code":5`},
		{"create", "POST", "/v1/shelves", `{"theme":"Poetry"}`, 200, `"theme":"Poetry"`},
		{"malformed json", "POST", "/v1/shelves", `{"theme":`, 400, `"code":3`},
		{"unknown path", "GET", "/v2/nothing", "", 404, `"code"`},
		{"wrong method", "PUT", "/v1/shelves", "", 405, `"code"`},
		{"default route", "POST", "/bookstore.v1.Bookstore/GetShelf", `{"shelf":"1"}`, 200, `"id":"1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype := ""
			if tt.body != "" {
				ctype = "application/json"
			}
			status, hdr, body := c.do(tt.method, tt.path, ctype, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%s %s: got %d %s; want %d containing %s", tt.method, tt.path, status, body, tt.status, tt.want)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content-type %q", ct)
			}
			if status >= 400 {
				var e struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code == 0 || e.Message == "" {
					t.Fatalf("error body %q is not the contract's JSON error (%v)", body, err)
				}
			}
			if tt.status == 405 && hdr.Get("Allow") == "" {
				t.Fatalf("405 without Allow header")
			}
		})
	}
}

func TestRESTOverH2C(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	base := "http://" + e.Addr().String()
	hc := testutil.H2CClient()
	for _, tt := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/v1/shelves/1", "", 200, `"id":"1"`},
		{"GET", "/v1/shelves/999", "", 404, `"code":5`},
		{"POST", "/v1/shelves", `{"theme":`, 400, `"code":3`},
		{"GET", "/nope", "", 404, `"code"`},
	} {
		req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
			t.Fatalf("%s %s: got HTTP/%d %d %s; want %d containing %s", tt.method, tt.path, resp.ProtoMajor, resp.StatusCode, b, tt.status, tt.want)
		}
	}
}

// TestConcurrentRequests sends 200 requests at once over a few h2c and
// HTTP/1.1 connections; each answer must belong to its own request.
func TestConcurrentRequests(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	base := "http://" + e.Addr().String()
	hc := testutil.H2CClient()
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			shelf := []string{"1", "2"}[i%2]
			resp, err := hc.Get(base + "/v1/shelves/" + shelf)
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"`+shelf+`"`) {
				errs <- resp.Status + " " + string(b)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
