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
	pending int // lines buffered since the last flush
}

// run writes batches until Close. Idle, it waits for a first line; then
// it lets lines gather for flushEvery (less when the queue reaches its
// high-water mark, Reopen or Close call), writes them all and flushes.
// So a busy gateway pays one wakeup and one write(2) per batch, not per
// line, and a line reaches the output within about flushEvery.
func (l *Log) run(out *sink) {
	defer close(l.done)
	w := &writer{out: out, bw: bufio.NewWriterSize(out.w, 64<<10)}
	timer := time.NewTimer(l.flushEvery)
	timer.Stop()
	for {
		l.gather(timer)
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
		l.recycle(batch)
		l.flush(w)
		if closed {
			w.out.close()
			return
		}
	}
}

// gather waits until there is work, then up to flushEvery for more, or
// less when the queue fills up or an output switch or Close is waiting.
func (l *Log) gather(timer *time.Timer) {
	for !l.hasWork() {
		<-l.wake
	}
	select { // a token from the first line is spent: only urgency wakes us now
	case <-l.wake:
	default:
	}
	if l.urgent() {
		return
	}
	timer.Reset(l.flushEvery)
	select {
	case <-timer.C:
	case <-l.wake:
		timer.Stop()
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
