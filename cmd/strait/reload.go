package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/straitgw/strait/engine"
)

// reloader reloads a running engine from its sources: the --config file
// (with the flags given at start applied on top again) and the descriptor
// files they name. It reloads on SIGHUP and when one of those files
// changes on disk.
type reloader struct {
	e      *engine.Engine
	load   func() (engine.Config, error)
	stderr io.Writer
	w      *fsnotify.Watcher // nil when watching is not possible
	files  map[string]bool   // absolute paths whose changes reload
	certs  map[string]bool   // absolute paths of the listener's TLS files
	dirs   map[string]bool   // their directories
}

// settle gathers the events of one save (editors write, rename and chmod
// in a burst) into one reload.
const settle = 200 * time.Millisecond

func startReloader(ctx context.Context, e *engine.Engine, cfg engine.Config, load func() (engine.Config, error), stderr io.Writer) {
	r := &reloader{e: e, load: load, stderr: stderr}
	if w, err := fsnotify.NewWatcher(); err == nil {
		r.w = w
		r.watch(cfg)
	} else {
		fmt.Fprintf(stderr, "strait: warning: not watching files (%v); SIGHUP reloads\n", err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go r.run(ctx, hup)
}

func (r *reloader) run(ctx context.Context, hup chan os.Signal) {
	defer signal.Stop(hup)
	var events <-chan fsnotify.Event
	if r.w != nil {
		defer r.w.Close()
		events = r.w.Events
	}
	var due, certsDue <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reopenLogs()
			r.reload("SIGHUP")
		case ev := <-events:
			switch {
			case r.relevant(ev.Name):
				due = time.After(settle)
			case r.certs[filepath.Clean(ev.Name)]:
				certsDue = time.After(settle)
			}
		case <-due:
			due, certsDue = nil, nil // a whole reload reads the certificates too
			r.reload("a file changed")
		case <-certsDue:
			certsDue = nil
			r.reloadCerts()
		}
	}
}

// reopenLogs reopens the access log file, whatever becomes of the
// reload: a rotation renames it, then sends SIGHUP.
func (r *reloader) reopenLogs() {
	if err := r.e.ReopenLogs(); err != nil {
		fmt.Fprintf(r.stderr, "strait: access log not reopened, still writing the previous file: %v\n", err)
	}
}

// reloadCerts reads the listener's certificate files again after one of
// them changed: new connections get the new ones, none is dropped.
func (r *reloader) reloadCerts() {
	if err := r.e.ReloadCertificates(); err != nil {
		fmt.Fprintf(r.stderr, "strait: certificate reload rejected, still serving the previous certificates: %v\n", err)
		return
	}
	fmt.Fprintln(r.stderr, "strait: certificates reloaded")
}

func (r *reloader) reload(why string) {
	cfg, err := r.load()
	var files *protoregistry.Files
	if err == nil {
		files, err = cfg.Check()
	}
	if err != nil {
		r.e.ReloadFailed(err)
	} else {
		err = r.e.Reload(cfg, files) // counts its own rejections
	}
	if err != nil {
		fmt.Fprintf(r.stderr, "strait: reload after %s rejected, still serving the previous configuration: %v\n", why, err)
		return
	}
	fmt.Fprintf(r.stderr, "strait: reloaded after %s (configuration version %d)\n", why, r.e.ConfigVersion())
	if r.w != nil {
		r.watch(cfg)
	}
}

// relevant reports an event on a watched file, or on the "..data" link a
// Kubernetes ConfigMap volume swaps to replace all its files at once.
func (r *reloader) relevant(name string) bool {
	name = filepath.Clean(name)
	return r.files[name] || r.dirs[filepath.Dir(name)] && strings.HasPrefix(filepath.Base(name), "..")
}

// watch follows cfg's sources. Directories are watched, not files: an
// editor or a ConfigMap update replaces a file by renaming another over
// it, which a watch on the old file would miss.
func (r *reloader) watch(cfg engine.Config) {
	r.files, r.certs, r.dirs = map[string]bool{}, map[string]bool{}, map[string]bool{}
	paths := append([]string{cfg.Source()}, cfg.Descriptors...)
	// The upstreams' TLS files reload everything (their pools dial anew);
	// the listener's swap its certificates only.
	r.add(r.files, slices.Concat(paths, cfg.UpstreamTLSPaths(), cfg.JWKSPaths()))
	r.add(r.certs, cfg.ListenTLSPaths())
}

// add watches paths (their directories) and records them in set.
func (r *reloader) add(set map[string]bool, paths []string) {
	for _, p := range paths {
		if p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		set[abs], r.dirs[filepath.Dir(abs)] = true, true
		_ = r.w.Add(filepath.Dir(abs)) // adding twice is harmless
	}
}
