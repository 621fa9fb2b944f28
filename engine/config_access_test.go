package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAccessLogConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		log  AccessLogConfig
		want string
	}{
		{"off", AccessLogConfig{}, ""},
		{"stdout", AccessLogConfig{Path: "stdout", Format: "json"}, ""},
		{"file, format by default", AccessLogConfig{Path: filepath.Join(dir, "access.log")}, ""},
		{"format without path", AccessLogConfig{Format: "json"}, "access_log.path: missing: stdout or a file"},
		{"unknown format", AccessLogConfig{Path: "stdout", Format: "clf"}, `access_log.format: "clf" is not a known format (json)`},
		{"a directory", AccessLogConfig{Path: dir}, "access_log.path: " + dir + " is a directory"},
		{"missing directory", AccessLogConfig{Path: filepath.Join(dir, "no", "a.log")},
			"access_log.path: " + filepath.Join(dir, "no") + ": no such file or directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := valid(t)
			c.AccessLog = tt.log
			c.Defaults()
			if got := problems(t, c.Validate()); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestAccessLogConfigFile: a relative path is the configuration file's
// directory's, a problem points at its line, stdout stays stdout.
func TestAccessLogConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	base := "listen: 127.0.0.1:8080\ndescriptors: [api.pb]\nupstreams: [{name: a, endpoints: [\"127.0.0.1:1\"]}]\n"
	if err := os.WriteFile(filepath.Join(dir, "api.pb"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ log, path, problem string }{
		{"access_log: {path: logs/access.log, format: json}\n", filepath.Join(dir, "logs", "access.log"),
			path + ":4:20: access_log.path: " + filepath.Join(dir, "logs") + ": no such file or directory"},
		{"access_log: {path: stdout}\n", "stdout", ""},
		{"access_log:\n  path: /tmp/a.log\n  format: xml\n", "/tmp/a.log", path + `:6:11: access_log.format: "xml" is not a known format (json)`},
	} {
		if err := os.WriteFile(path, []byte(base+tt.log), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		c.Defaults()
		if c.AccessLog.Path != tt.path {
			t.Errorf("%q: path %q; want %q", tt.log, c.AccessLog.Path, tt.path)
		}
		if got := problems(t, c.Validate()); got != tt.problem {
			t.Errorf("%q: got\n%s\nwant\n%s", tt.log, got, tt.problem)
		}
	}
}
