package engine

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestValidateTracing: the collector is a host:port, the ratio is
// between 0 and 1 and needs a collector; problems point into the file.
func TestValidateTracing(t *testing.T) {
	tests := []struct {
		name string
		tr   TracingConfig
		want string
	}{
		{"off", TracingConfig{}, ""},
		{"parents only", TracingConfig{OTLPEndpoint: "127.0.0.1:4317"}, ""},
		{"ratio", TracingConfig{OTLPEndpoint: "otel-collector:4317", SampleRatio: 0.01}, ""},
		{"every request", TracingConfig{OTLPEndpoint: "[::1]:4317", SampleRatio: 1}, ""},
		{"no port", TracingConfig{OTLPEndpoint: "collector"},
			`tracing.otlp_endpoint: "collector" is not host:port (e.g. 127.0.0.1:8080)`},
		{"a URL", TracingConfig{OTLPEndpoint: "http://collector:4317"},
			`tracing.otlp_endpoint: "http://collector:4317" is not host:port (e.g. 127.0.0.1:8080)`},
		{"port 0", TracingConfig{OTLPEndpoint: "127.0.0.1:0"}, `tracing.otlp_endpoint: "127.0.0.1:0": bad port "0"`},
		{"above 1", TracingConfig{OTLPEndpoint: "h:1", SampleRatio: 1.5}, "tracing.sample_ratio: 1.5 is not between 0 and 1"},
		{"negative", TracingConfig{OTLPEndpoint: "h:1", SampleRatio: -0.1}, "tracing.sample_ratio: -0.1 is not between 0 and 1"},
		{"NaN", TracingConfig{OTLPEndpoint: "h:1", SampleRatio: math.NaN()}, "tracing.sample_ratio: NaN is not between 0 and 1"},
		{"no collector", TracingConfig{SampleRatio: 0.5},
			"tracing.sample_ratio: needs otlp_endpoint (the collector's host:port)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid(t)
			c.Tracing = tt.tr
			c.Defaults()
			if got := problems(t, c.Validate()); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}

	path := filepath.Join(t.TempDir(), "t.yaml")
	src := "listen: 127.0.0.1:8080\nupstreams: [{name: a, endpoints: [\"127.0.0.1:1\"]}]\ndescriptors: [" + valid(t).Descriptors[0] +
		"]\ntracing: {otlp_endpoint: \"127.0.0.1:4317\", sample_ratio: 2}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if got, want := problems(t, c.Validate()), path+":4:58: tracing.sample_ratio: 2 is not between 0 and 1"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
