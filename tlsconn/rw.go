package tlsconn

import (
	"bytes"

	"github.com/cloudwego/netpoll"
)

// reader is a Conn's netpoll.Reader: the input LinkBuffer, whose calls
// for more bytes than are buffered read them first (netpoll's blocking
// Next), bounded by the read timeout. Only the reader goroutine calls it.
type reader struct{ c *Conn }

var _ netpoll.Reader = (*reader)(nil)

// ensure reads until n bytes are buffered.
func (r *reader) ensure(n int) error {
	for r.c.in.Len() < n {
		if err := r.c.fill(true); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) Next(n int) ([]byte, error) {
	if err := r.ensure(n); err != nil {
		return nil, err
	}
	return r.c.in.Next(n)
}

func (r *reader) Peek(n int) ([]byte, error) {
	if err := r.ensure(n); err != nil {
		return nil, err
	}
	return r.c.in.Peek(n)
}

func (r *reader) Skip(n int) error {
	if err := r.ensure(n); err != nil {
		return err
	}
	return r.c.in.Skip(n)
}

// Until reads through the first delim, reading more until it comes.
func (r *reader) Until(delim byte) ([]byte, error) {
	for from := 0; ; {
		if n := r.c.in.Len(); n > from {
			b, err := r.c.in.Peek(n)
			if err != nil {
				return nil, err
			}
			if i := bytes.IndexByte(b[from:], delim); i >= 0 {
				return r.c.in.Next(from + i + 1)
			}
			from = n
		}
		if err := r.c.fill(true); err != nil {
			b, _ := r.c.in.Next(r.c.in.Len())
			return b, err
		}
	}
}

func (r *reader) ReadString(n int) (string, error) {
	if err := r.ensure(n); err != nil {
		return "", err
	}
	return r.c.in.ReadString(n)
}

func (r *reader) ReadBinary(n int) ([]byte, error) {
	if err := r.ensure(n); err != nil {
		return nil, err
	}
	return r.c.in.ReadBinary(n)
}

func (r *reader) ReadByte() (byte, error) {
	if err := r.ensure(1); err != nil {
		return 0, err
	}
	return r.c.in.ReadByte()
}

func (r *reader) Slice(n int) (netpoll.Reader, error) {
	if err := r.ensure(n); err != nil {
		return nil, err
	}
	return r.c.in.Slice(n)
}

func (r *reader) Release() error { return r.c.in.Release() }
func (r *reader) Len() int       { return r.c.in.Len() }

// writer is a Conn's netpoll.Writer: the output LinkBuffer, whose Flush
// encrypts what was written on the caller and hands it to the kernel
// without waiting for the client (sock). One writer at a time, as with
// netpoll.
type writer struct{ c *Conn }

var _ netpoll.Writer = (*writer)(nil)

func (w *writer) Malloc(n int) ([]byte, error)           { return w.c.out.Malloc(n) }
func (w *writer) WriteString(s string) (int, error)      { return w.c.out.WriteString(s) }
func (w *writer) WriteBinary(b []byte) (int, error)      { return w.c.out.WriteBinary(b) }
func (w *writer) WriteByte(b byte) error                 { return w.c.out.WriteByte(b) }
func (w *writer) WriteDirect(p []byte, remain int) error { return w.c.out.WriteDirect(p, remain) }
func (w *writer) MallocAck(n int) error                  { return w.c.out.MallocAck(n) }
func (w *writer) Append(o netpoll.Writer) error          { return w.c.out.Append(o) }
func (w *writer) MallocLen() int                         { return w.c.out.MallocLen() }

// Flush sends what was written: one TLS write, its records gathered into
// one system call. It waits only when more than MaxQueued bytes wait for
// the client (see Conn.Fits).
func (w *writer) Flush() error {
	c := w.c
	if !c.IsActive() {
		return ErrClosed
	}
	_ = c.out.Flush()
	n := c.out.Len()
	if n == 0 {
		return nil
	}
	p, err := c.out.Next(n)
	if err == nil {
		c.sock.cork()
		_, err = c.tc.Write(p)
		if uerr := c.sock.uncork(); err == nil {
			err = uerr
		}
	}
	_ = c.out.Release()
	if err != nil {
		_ = c.Close()
		return err
	}
	return c.sock.waitBelow(c.maxQueued)
}
