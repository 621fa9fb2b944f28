//go:build straitpoison

package poison

// Enabled reports whether released buffers are poisoned.
const Enabled = true

// Wrap returns a reader that poisons what it handed out at Release.
func Wrap(r Reader) Reader { return &reader{r: r} }

// reader remembers the slices Next handed out since the last Release and
// overwrites them just before it. Only Next's: they are the reader's until
// Release (netpoll keeps the nodes, or the copy it made for a read across
// nodes, until then). A slice from Peek is valid only until the next read
// (netpoll may free its cross-node copy at once), so the codecs never
// keep one, and poisoning it could write into memory already reused.
type reader struct {
	r     Reader
	taken [][]byte
}

func (p *reader) Len() int                   { return p.r.Len() }
func (p *reader) Peek(n int) ([]byte, error) { return p.r.Peek(n) }
func (p *reader) Skip(n int) error           { return p.r.Skip(n) }

func (p *reader) Next(n int) ([]byte, error) {
	b, err := p.r.Next(n)
	if err == nil {
		p.taken = append(p.taken, b)
	}
	return b, err
}

func (p *reader) Release() error {
	for _, b := range p.taken {
		for i := range b {
			b[i] = Byte
		}
	}
	clear(p.taken)
	p.taken = p.taken[:0]
	return p.r.Release()
}
