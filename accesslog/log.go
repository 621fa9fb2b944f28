// Package accesslog writes one JSON line per request, off the event
// loop: Add copies an Entry into a bounded queue and returns; one writer
// goroutine per Log formats the queued entries and writes them in
// batches. When the queue is full, Add drops the entry and counts it: a
// slow disk never stalls a request. accesslog imports no strait package.
package accesslog

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for a zero Options.
const (
	DefaultQueue      = 8192                   // entries waiting for the writer
	DefaultFlushEvery = 100 * time.Millisecond // how long lines gather before a write
)

// Stdout is the path that names the process's standard output.
const Stdout = "stdout"

// ErrClosed is returned by Reopen after Close.
var ErrClosed = errors.New("accesslog: closed")

// ErrStuck is returned by Close when the output did not take the last
// lines within closeWait (a pipe nobody reads): shutdown goes on.
var ErrStuck = errors.New("accesslog: output stuck, last lines not written")

// closeWait bounds how long Close waits for the writer.
var closeWait = 5 * time.Second

// Options tune a Log; zero fields take the defaults.
type Options struct {
	Queue      int
	FlushEvery time.Duration
}

// A Log is an access log's queue and writer. Its methods are safe for
// concurrent use; Add never blocks on the output.
type Log struct {
	max        int
	flushEvery time.Duration
	wake       chan struct{} // a token: something for the writer
	done       chan struct{} // the writer is gone

	mu     sync.Mutex
	queue  []Entry // waiting for the writer
	spare  []Entry // the writer's last batch, for reuse as the queue
	moves  []move  // outputs to switch to, opened by Reopen
	closed bool

	written atomic.Uint64
	dropped atomic.Uint64
}

// move switches the output before the queue's entry at.
type move struct {
	at int
	to *sink
}

// sink is an output: a file opened O_APPEND, or stdout (never closed).
type sink struct {
	w io.Writer
	c io.Closer // nil: not ours to close
}

func (s *sink) close() {
	if s.c != nil {
		_ = s.c.Close()
	}
}

// openSink opens path for appending: "stdout", a file (created 0644),
// or "" for none (lines are discarded).
func openSink(path string) (*sink, error) {
	switch path {
	case Stdout:
		return &sink{w: os.Stdout}, nil
	case "":
		return &sink{w: io.Discard}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return &sink{w: f, c: f}, nil
}

// Open starts a Log writing to path ("stdout" or a file, opened
// O_APPEND and created if missing).
func Open(path string, o Options) (*Log, error) {
	s, err := openSink(path)
	if err != nil {
		return nil, err
	}
	return start(s, o), nil
}

// New starts a Log writing to w, which it never closes.
func New(w io.Writer, o Options) *Log { return start(&sink{w: w}, o) }

func start(s *sink, o Options) *Log {
	l := &Log{max: o.Queue, flushEvery: o.FlushEvery, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if l.max <= 0 {
		l.max = DefaultQueue
	}
	if l.flushEvery <= 0 {
		l.flushEvery = DefaultFlushEvery
	}
	go l.run(s)
	return l
}

// Add queues a copy of e, or drops it (counted) when the queue is full
// or the Log closed. It never waits for the writer.
func (l *Log) Add(e *Entry) {
	l.mu.Lock()
	if l.closed || len(l.queue) >= l.max {
		l.mu.Unlock()
		l.dropped.Add(1)
		return
	}
	n := len(l.queue)
	l.queue = append(l.queue, *e)
	l.mu.Unlock()
	if n == 0 || n+1 == l.high() { // the first line wakes an idle writer; a filling queue, a gathering one
		l.signal()
	}
}

// high is the queue length that has the writer write before its
// gathering time is up.
func (l *Log) high() int { return max(l.max/4, 1) }

func (l *Log) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Reopen opens path and has the writer switch to it: lines added before
// go to the old output, which is then flushed and closed, and lines
// added after to the new one. Reopening the same path after a rename
// starts a new file (log rotation). "" closes the output and discards
// lines until the next Reopen. A path that will not open is an error,
// and the output stays.
func (l *Log) Reopen(path string) error {
	s, err := openSink(path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		s.close()
		return ErrClosed
	}
	l.moves = append(l.moves, move{at: len(l.queue), to: s})
	l.mu.Unlock()
	l.signal()
	return nil
}

// Close writes what is queued, flushes and closes the output; entries
// added later are dropped. It waits for the writer, up to closeWait.
func (l *Log) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.signal()
	select {
	case <-l.done:
		return nil
	case <-time.After(closeWait):
		return ErrStuck
	}
}

// Written counts lines written; Dropped counts entries lost: the queue
// was full, the Log closed, or the output failed.
func (l *Log) Written() uint64 { return l.written.Load() }
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// hasWork reports queued lines, an output switch, or Close.
func (l *Log) hasWork() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) > 0 || len(l.moves) > 0 || l.closed
}

// urgent reports work that should not wait: a filling queue, an output
// switch, or Close.
func (l *Log) urgent() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) >= l.high() || len(l.moves) > 0 || l.closed
}

// take takes all the work: the queued entries, the output switches
// among them, and whether the Log is closed.
func (l *Log) take() ([]Entry, []move, bool) {
	l.mu.Lock()
	batch, moves, closed := l.queue, l.moves, l.closed
	l.queue, l.spare, l.moves = l.spare[:0], nil, nil
	l.mu.Unlock()
	return batch, moves, closed
}

// recycle gives a written batch back as the next queue's storage.
func (l *Log) recycle(batch []Entry) {
	clear(batch) // let the strings go
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spare = batch[:0]
}
