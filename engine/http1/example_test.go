package http1_test

import (
	"errors"
	"fmt"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/engine/http1"
)

// The loop an OnRequest handler runs: parse every buffered request, answer
// 100 Continue when the client waits for it, use the views, release.
func ExampleReadHead() {
	in := netpoll.NewLinkBuffer() // stands for conn.Reader()
	_, _ = in.WriteString("POST /v1/shelves HTTP/1.1\r\nHost: api\r\nExpect: 100-continue\r\n" +
		"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"theme\":\"x\"}" +
		"GET /v1/shelves/1 HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n")
	_ = in.Flush()
	var (
		req http1.Request
		out []byte // stands for conn.Writer()
		lim = http1.Limits{MaxBodyBytes: 1 << 20}
	)
	for in.Len() > 0 {
		req.Reset()
		err := http1.ReadHead(in, &req, lim)
		if err == nil && req.ExpectContinue && in.Len() == 0 {
			out = http1.AppendContinue(out) // and flush
		}
		if err == nil {
			err = http1.ReadBody(in, &req, lim)
		}
		var e *http1.Error
		if errors.As(err, &e) {
			fmt.Println("answer", e.Status, "and close")
			return
		} else if err != nil {
			return // timeout or EOF: close
		}
		fmt.Printf("%s %s host=%s body=%s keep-alive=%v\n", req.Method, req.Path, req.Host, req.Body, req.KeepAlive)
		_ = in.Release()
		if !req.KeepAlive {
			return
		}
	}
	// Output:
	// POST /v1/shelves host=api body={"theme":"x"} keep-alive=true
	// GET /v1/shelves/1 host=api body= keep-alive=false
}
