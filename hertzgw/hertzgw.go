// Package hertzgw embeds strait in a Hertz server as middleware: requests
// that match a google.api.http route (or POST /pkg.Service/Method) are
// transcoded and sent to the engine's upstreams; everything else goes on
// to the next handler. It imports engine, never the reverse.
package hertzgw

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/straitgw/strait/engine"
)

// Middleware returns the Hertz handler serving e's routes. The engine
// need not be started: Hertz owns the listener, the engine its upstreams.
// A server-streaming response is gathered whole before it is written.
func Middleware(e *engine.Engine) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		req := &engine.Request{
			Method:      c.Method(),
			Path:        c.Request.URI().Path(),
			RawQuery:    c.Request.URI().QueryString(),
			ContentType: c.Request.Header.ContentType(),
			Host:        c.Request.Host(),
			Body:        c.Request.Body(),
		}
		c.Request.Header.VisitAll(func(k, v []byte) {
			req.Headers = append(req.Headers, engine.Header{Name: string(k), Value: string(v)})
		})
		resp, err := e.Do(ctx, req)
		if err == engine.ErrNoRoute {
			c.Next(ctx)
			return
		}
		if err != nil {
			c.AbortWithStatus(499) // the client went away
			return
		}
		for _, h := range resp.Headers {
			c.Response.Header.Add(h.Name, h.Value)
		}
		c.Data(resp.Status, resp.ContentType, resp.Body)
		c.Abort()
	}
}
