package engine

import (
	"os"
	"path/filepath"

	"github.com/straitgw/strait/accesslog"
)

// AccessLogConfig turns the access log on: a JSON object per request,
// one a line (package accesslog has the fields).
type AccessLogConfig struct {
	// Path is "stdout" or a file, opened for appending (created 0644;
	// relative: to the configuration file). SIGHUP reopens it, for log
	// rotation. Empty: no access log.
	Path string `yaml:"path"`
	// Format is json, the only one (and the default).
	Format string `yaml:"format"`
}

// on reports whether the access log is on.
func (a AccessLogConfig) on() bool { return a.Path != "" }

// accessLog checks the access_log block: a known format, and a file in a
// directory that exists (whether it can be opened is known at start).
func (k *checker) accessLog() {
	a := k.c.AccessLog
	if a.Format != "" && a.Format != "json" {
		k.add("access_log.format", a.Format, "%q is not a known format (json)", a.Format)
	}
	if a.Path == "" {
		if a.Format != "" {
			k.add("access_log.path", "", "missing: stdout or a file")
		}
		return
	}
	if a.Path == accesslog.Stdout {
		return
	}
	if fi, err := os.Stat(a.Path); err == nil && fi.IsDir() {
		k.add("access_log.path", a.Path, "%s is a directory", a.Path)
	} else if _, err := os.Stat(filepath.Dir(a.Path)); err != nil {
		k.add("access_log.path", a.Path, "%v", unwrapPath(err))
	}
}

// resolveAccessLogPath makes a relative access log file relative to dir
// (the configuration file's directory).
func (c *Config) resolveAccessLogPath(dir string) {
	p := c.AccessLog.Path
	if p != "" && p != accesslog.Stdout && !filepath.IsAbs(p) {
		c.AccessLog.Path = filepath.Join(dir, p)
		c.src.retarget("access_log.path", c.AccessLog.Path)
	}
}
