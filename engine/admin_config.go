package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/straitgw/strait/transcode"
)

// configDump answers /config_dump: the configuration in force, as the
// YAML keys name it (durations as "2s"), with its version and load time.
func (e *Engine) configDump(w http.ResponseWriter, _ *http.Request) {
	s := e.snap.Load()
	out := map[string]any{
		"version": s.version,
		"loaded":  s.loaded.UTC().Format(time.RFC3339Nano),
		"config":  yamlView(reflect.ValueOf(s.cfg)),
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// yamlView turns a config value into maps and slices keyed by the yaml
// tags, leaving out fields tagged "-" and unexported ones.
func yamlView(v reflect.Value) any {
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	switch v.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" || name == "" {
				continue
			}
			m[name] = yamlView(v.Field(i))
		}
		return m
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = yamlView(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// routesPage answers /routes: the route table in force, one
// "METHOD /template -> pkg.Service.Method" a line (as `strait routes`).
func (e *Engine) routesPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	WriteRoutes(w, e.snap.Load().router.Routes(), r.URL.Query().Has("all"))
}

// WriteRoutes prints routes one a line. Every method is also reachable as
// POST /pkg.Service/Method; those lines are shown for methods without an
// http rule, and for all with all.
func WriteRoutes(w io.Writer, rs []transcode.RouteInfo, all bool) {
	ruled := map[string]bool{}
	for _, r := range rs {
		if !r.Default {
			ruled[string(r.RPC)] = true
		}
	}
	for _, r := range rs {
		if !r.Default || all || !ruled[string(r.RPC)] {
			fmt.Fprintln(w, r.String())
		}
	}
}
