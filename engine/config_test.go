package engine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// problems returns err's problems one per line, or "" for nil.
func problems(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ce *ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConfig) {
		t.Fatalf("got %T %v; want *ConfigError", err, err)
	}
	return ce.Error()
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown top key", "listen: a:1\nlisten_addr: b\n",
			"c.yaml:2:1: listen_addr: unknown key \"listen_addr\" (known: listen, admin, descriptors, upstreams, services, timeouts, limits, transcode, headers, cors, tls, rate_limits, jwt, canary, access_log, tracing)"},
		{"misspelt key", "Listen: a:1\nupstreams: [{name: a, conns-per-endpoint: 2}]\n",
			"c.yaml:1:1: Listen: unknown key \"Listen\" (did you mean \"listen\"?)\nc.yaml:2:23: upstreams[0].conns-per-endpoint: unknown key \"conns-per-endpoint\" (did you mean \"conns_per_endpoint\"?)"},
		{"unknown nested key", "upstreams:\n  - name: a\n    endpoint: x:1\n",
			"c.yaml:3:5: upstreams[0].endpoint: unknown key \"endpoint\" (did you mean \"endpoints\"?)"},
		{"repeated key", "listen: a:1\nlisten: a:2\n",
			"c.yaml:2:1: listen: repeated key (first at line 1)"},
		{"bad duration", "timeouts:\n  header: 5\n",
			"c.yaml:2:11: timeouts.header: want a duration such as \"5s\" or \"250ms\", got \"5\""},
		{"bad int", "limits:\n  max_body_bytes: lots\n",
			"c.yaml:2:19: limits.max_body_bytes: want an integer, got \"lots\""},
		{"uint overflow", "limits:\n  max_concurrent_streams: -1\n",
			"c.yaml:2:27: limits.max_concurrent_streams: want an integer, got \"-1\""},
		{"bad bool", "transcode:\n  emit_unpopulated: maybe\n",
			"c.yaml:2:21: transcode.emit_unpopulated: want true or false, got \"maybe\""},
		{"list wanted", "descriptors: a.pb\n",
			"c.yaml:1:14: descriptors: want a list, got \"a.pb\""},
		{"mapping wanted", "timeouts: [1]\n",
			"c.yaml:1:11: timeouts: want a mapping of header, idle, write, upstream, connect, drain, got a list"},
		{"scalar wanted", "listen: {a: 1}\n",
			"c.yaml:1:9: listen: want a single value, got a mapping"},
		{"two problems", "admin: [x]\nfoo: 1\n",
			"c.yaml:1:8: admin: want a single value, got a list\nc.yaml:2:1: foo: unknown key \"foo\" (known: listen, admin, descriptors, upstreams, services, timeouts, limits, transcode, headers, cors, tls, rate_limits, jwt, canary, access_log, tracing)"},
		{"syntax", "listen: a\n  b: c\n",
			"c.yaml:2: mapping values are not allowed in this context"},
		{"not a mapping", "- a\n",
			"c.yaml:1:1: want a mapping of listen, admin, descriptors, upstreams, services, timeouts, limits, transcode, headers, cors, tls, rate_limits, jwt, canary, access_log, tracing, got a list"},
		{"hidden field", "descriptorsets: [x]\n",
			"c.yaml:1:1: descriptorsets: unknown key \"descriptorsets\" (known: listen, admin, descriptors, upstreams, services, timeouts, limits, transcode, headers, cors, tls, rate_limits, jwt, canary, access_log, tracing)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml), "c.yaml")
			if got := problems(t, err); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseConfigValues(t *testing.T) {
	src := `
listen: 127.0.0.1:8080
admin: ~
descriptors: [a.pb, b.pb]
upstreams:
  - &u {name: one, endpoints: ["127.0.0.1:1", "127.0.0.1:2"], conns_per_endpoint: 0x2, ping_min_interval: 90s}
services:
  - {name: p.S, upstream: one}
timeouts: {header: 1.5s, upstream: 0, connect: 250ms}
limits: {max_body_bytes: 1_000, max_concurrent_streams: 7}
transcode: {emit_unpopulated: true, use_enum_numbers: false}
`
	got, err := ParseConfig([]byte(src), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen:      "127.0.0.1:8080",
		Descriptors: []string{"a.pb", "b.pb"},
		Upstreams:   []UpstreamConfig{{Name: "one", Endpoints: []string{"127.0.0.1:1", "127.0.0.1:2"}, ConnsPerEndpoint: 2, PingMinInterval: 90 * time.Second}},
		Services:    []ServiceConfig{{Name: "p.S", Upstream: "one"}},
		Timeouts:    Timeouts{Header: 1500 * time.Millisecond, Connect: 250 * time.Millisecond},
		Limits:      Limits{MaxBodyBytes: 1000, MaxConcurrentStreams: 7},
		Transcode:   TranscodeConfig{EmitUnpopulated: true},
	}
	got.src = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v; want %+v", got, want)
	}
	if _, err := ParseConfig(nil, "empty.yaml"); err != nil {
		t.Errorf("empty file: got %v; want no error", err)
	}
}

// valid is a configuration that passes Validate; cases break one thing.
func valid(t *testing.T) Config {
	pb := filepath.Join(t.TempDir(), "api.pb")
	if err := os.WriteFile(pb, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return Config{
		Listen:      "127.0.0.1:8080",
		Descriptors: []string{pb},
		Upstreams:   []UpstreamConfig{{Name: "a", Endpoints: []string{"127.0.0.1:50051"}}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(c *Config)
		want   string
	}{
		{"valid", func(c *Config) {}, ""},
		{"no listen", func(c *Config) { c.Listen = "" },
			"listen: missing: give the address to serve on, e.g. 127.0.0.1:8080"},
		{"bad listen", func(c *Config) { c.Listen = "8080" },
			`listen: "8080" is not host:port (e.g. 127.0.0.1:8080)`},
		{"bad port", func(c *Config) { c.Admin = "127.0.0.1:http" },
			`admin: "127.0.0.1:http": bad port "http"`},
		{"admin is listen", func(c *Config) { c.Admin = c.Listen },
			"admin: same address as listen; pick another port"},
		{"no descriptors", func(c *Config) { c.Descriptors = nil },
			"descriptors: none given: list FileDescriptorSet files (protoc --include_imports --descriptor_set_out=api.pb ...) or set reflection: true on an upstream"},
		{"in-memory descriptors", func(c *Config) { c.Descriptors, c.DescriptorSets = nil, [][]byte{{}} }, ""},
		{"missing descriptor file", func(c *Config) { c.Descriptors = []string{"/nonexistent/x.pb"} },
			"descriptors[0]: /nonexistent/x.pb: no such file or directory"},
		{"no upstreams", func(c *Config) { c.Upstreams = nil },
			"upstreams: none given: add an upstream with at least one endpoint (host:port)"},
		{"no endpoints", func(c *Config) { c.Upstreams[0].Endpoints = nil },
			"upstreams[0].endpoints: no endpoints: list at least one host:port"},
		{"endpoint port 0", func(c *Config) { c.Upstreams[0].Endpoints = []string{"127.0.0.1:0"} },
			`upstreams[0].endpoints[0]: "127.0.0.1:0": bad port "0"`},
		{"endpoint twice", func(c *Config) { c.Upstreams[0].Endpoints = []string{"h:1", "h:1"} },
			`upstreams[0].endpoints[1]: "h:1" is listed twice`},
		{"duplicate upstream", func(c *Config) { c.Upstreams = append(c.Upstreams, c.Upstreams[0]) },
			`upstreams[1].name: "a" is already the name of upstreams[0]`},
		{"unnamed upstream", func(c *Config) { c.Upstreams[0].Name = "" },
			"upstreams[0].name: missing"},
		{"unknown upstream", func(c *Config) { c.Services = []ServiceConfig{{Name: "p.S", Upstream: "b"}} },
			`services[0].upstream: unknown upstream "b" (known: "a")`},
		{"bad service name", func(c *Config) { c.Services = []ServiceConfig{{Name: "p..S", Upstream: "a"}} },
			`services[0].name: "p..S" is not a fully qualified service name such as pkg.v1.Service`},
		{"duplicate service", func(c *Config) {
			c.Services = []ServiceConfig{{Name: "p.S", Upstream: "a"}, {Name: "p.S", Upstream: "a"}}
		},
			`services[1].name: "p.S" is already routed by services[0]`},
		{"bad lb", func(c *Config) { c.Upstreams[0].LB = "random" },
			`upstreams[0].lb: "random" is not round_robin or least_request`},
		{"bad retry", func(c *Config) {
			c.Services = []ServiceConfig{{Name: "p.S", Upstream: "a", Retry: RetryPolicy{MaxAttempts: 9, RetryableStatusCodes: []string{"UNAVAILABLE", "SOMETIMES"}}}}
		}, "services[0].retry.max_attempts: 9 is not between 2 and 5 (0 turns retries off)\n" +
			`services[0].retry.retryable_status_codes[1]: "SOMETIMES" is not a gRPC status code name such as UNAVAILABLE`},
		{"negative", func(c *Config) { c.Timeouts.Idle, c.Limits.MaxBodyBytes = -time.Second, -1 },
			"timeouts.idle: must not be negative, got -1s\nlimits.max_body_bytes: must not be negative, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid(t)
			tt.break_(&c)
			c.Defaults()
			if got := problems(t, c.Validate()); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestValidatePositions: problems point into the file, unless a flag has
// replaced the value since.
func TestValidatePositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	src := "listen: 127.0.0.1:8080\ndescriptors: [missing.pb]\nupstreams:\n  - name: a\n    endpoints: [\"127.0.0.1:99999\"]\nservices:\n  - {name: p.S, upstream: b}\ntimeouts: {idle: -1500ms}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	want := strings.Join([]string{
		path + ":2:15: descriptors[0]: " + filepath.Join(filepath.Dir(path), "missing.pb") + ": no such file or directory",
		path + `:5:17: upstreams[0].endpoints[0]: "127.0.0.1:99999": bad port "99999"`,
		path + `:7:27: services[0].upstream: unknown upstream "b" (known: "a")`,
		path + ":8:18: timeouts.idle: must not be negative, got -1.5s",
	}, "\n")
	if got := problems(t, c.Validate()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	c.Upstreams[0].Endpoints[0] = "127.0.0.1:0" // as if from --upstream
	c.Listen = ""
	got := problems(t, c.Validate())
	for _, line := range []string{path + `: upstreams[0].endpoints[0]: "127.0.0.1:0": bad port "0"`, path + ": listen: missing"} {
		if !strings.Contains(got, line) {
			t.Errorf("got\n%s\nwant a line starting %s", got, line)
		}
	}
}

func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig("../examples/strait.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || len(c.Upstreams) != 2 || c.Upstreams[0].ConnsPerEndpoint != 2 ||
		len(c.JWT) != 1 || len(c.Canary) != 1 || c.AccessLog.Path != "stdout" {
		t.Errorf("got %+v", c)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v; want ErrNotExist", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxConfigBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(big); !errors.Is(err, ErrConfig) {
		t.Errorf("oversized file: got %v; want ErrConfig", err)
	}
}

// TestParseConfigAliasBomb: aliases cannot expand past maxConfigNodes.
func TestParseConfigAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("upstreams:\n  - &u {name: a, endpoints: [" + strings.Repeat("h:1, ", 999) + "h:1]}\n")
	b.WriteString(strings.Repeat("  - *u\n", 1000))
	_, err := ParseConfig([]byte(b.String()), "bomb.yaml")
	if got := problems(t, err); !strings.HasPrefix(got, "bomb.yaml:") || !strings.Contains(got, "too many values") || strings.Count(got, "\n") != 0 {
		t.Fatalf("got %v; want one too-many-values problem", got)
	}
}

func FuzzLoadConfig(f *testing.F) {
	if ex, err := os.ReadFile("../examples/strait.yaml"); err == nil {
		f.Add(ex)
	}
	f.Add([]byte("listen: a:1\nupstreams: [{name: a, endpoints: [b:2]}]\n"))
	f.Add([]byte("timeouts: {header: 5s}\nlimits: {max_body_bytes: 0x10}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("services:\n  - {name: p.S, upstream: a}\n"))
	f.Add([]byte("tracing: {otlp_endpoint: \"collector:4317\", sample_ratio: 0.25}\n"))
	if ex, err := os.ReadFile("../examples/strait-tls.yaml"); err == nil {
		f.Add(ex)
	}
	f.Add([]byte("tls: {cert_file: a.crt, key_file: a.key, client_ca_file: ca.pem, certificates: [{cert_file: b, key_file: c, server_names: [x.test, '*.y.test']}]}\n"))
	f.Add([]byte("upstreams: [{name: a, endpoints: [b:2], tls: {ca_file: ca.pem, cert_file: c, key_file: k, server_name: s}}]\n"))
	f.Add([]byte("rate_limits: [{key: 'header:x-t', rate: 5, per: 1m, burst: 9, max_keys: 10, routes: [p.S, 'GET /v1/x']}]\n"))
	f.Add([]byte("upstreams: [{name: a, endpoints: [b:2], circuit_breaker: {max_pending: 1, max_requests: 2, max_retries: 3}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data, "f.yaml")
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("got %T %v; want a *ConfigError", err, err)
			}
			return
		}
		c.Defaults()
		_ = c.Validate()
		// What parses must survive a round trip through yaml.v3's encoder.
		c.src = nil
		out, err := yaml.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseConfig(out, "f2.yaml")
		if err != nil {
			t.Fatalf("re-parse of\n%s: %v", out, err)
		}
		c2.src = nil
		if out2, err := yaml.Marshal(&c2); err != nil || string(out2) != string(out) {
			t.Fatalf("round trip: got\n%s\nwant\n%s", out2, out)
		}
	})
}

func TestDefaults(t *testing.T) {
	c := Config{Upstreams: []UpstreamConfig{{Name: "a"}, {Name: "b", ConnsPerEndpoint: 3}}}
	c.Timeouts.Idle = time.Second
	c.Defaults()
	if c.Timeouts.Header != DefaultHeaderTimeout || c.Timeouts.Idle != time.Second || c.Timeouts.Upstream != 0 {
		t.Errorf("timeouts: got %+v", c.Timeouts)
	}
	if c.Limits.MaxBodyBytes != DefaultMaxBodyBytes || c.Limits.MaxConcurrentStreams != DefaultMaxConcurrentStreams {
		t.Errorf("limits: got %+v", c.Limits)
	}
	if c.Upstreams[0].ConnsPerEndpoint != DefaultConnsPerEndpoint || c.Upstreams[1].ConnsPerEndpoint != 3 {
		t.Errorf("upstreams: got %+v", c.Upstreams)
	}
	if c.Listen != "" {
		t.Errorf("listen: got %q; want no default", c.Listen)
	}
}
