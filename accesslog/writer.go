package accesslog

import (
	"bufio"
	"time"
)

// writer is the state of a Log's one writer goroutine.
type writer struct {
	out     *sink
	bw      *bufio.Writer
	line    []byte
	flushed time.Time
	pending int // lines buffered since the last flush
}

// run writes batches until Close. It flushes when the queue is empty
// after a batch, and at least every flushEvery while lines keep coming,
// so a line waits in the buffer for a short while at most.
func (l *Log) run(out *sink) {
	defer close(l.done)
	w := &writer{out: out, bw: bufio.NewWriterSize(out.w, 64<<10), flushed: time.Now()}
	for {
		batch, moves, closed := l.take()
		for i := range batch {
			for len(moves) > 0 && moves[0].at == i {
				l.move(w, moves[0].to)
				moves = moves[1:]
			}
			w.line = AppendJSON(w.line[:0], &batch[i])
			_, _ = w.bw.Write(w.line) // an error is sticky: flush counts it
			w.pending++
		}
		for _, m := range moves { // after the batch's last line
			l.move(w, m.to)
		}
		idle := l.recycle(batch)
		if closed {
			l.flush(w)
			w.out.close()
			return
		}
		if idle || time.Since(w.flushed) >= l.flushEvery {
			l.flush(w)
		}
	}
}

// move flushes and closes the output and switches to another.
func (l *Log) move(w *writer, to *sink) {
	l.flush(w)
	w.out.close()
	w.out = to
	w.bw.Reset(to.w)
}

// flush writes the buffer out. Lines lost to a failed write (a full
// disk, a closed pipe) are counted as dropped and the buffer starts
// afresh, so the next write tries again.
func (l *Log) flush(w *writer) {
	w.flushed = time.Now()
	if w.pending == 0 {
		return
	}
	if err := w.bw.Flush(); err != nil {
		l.dropped.Add(uint64(w.pending))
		w.bw.Reset(w.out.w)
	} else {
		l.written.Add(uint64(w.pending))
	}
	w.pending = 0
}
