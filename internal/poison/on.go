//go:build straitpoison

package poison

// Enabled reports whether released buffers are poisoned.
const Enabled = true

// Wrap returns a reader that poisons what it handed out at Release.
func Wrap(r Reader) Reader { return &reader{r: r} }

// reader tracks the slices handed out since the last Release: pos counts
// the bytes consumed; a peeked slice starting at from is poisoned only in
// its consumed part (the rest is still unread input).
type reader struct {
	r     Reader
	pos   int
	views []view
}

type view struct {
	b    []byte
	from int
}

func (p *reader) Len() int { return p.r.Len() }

func (p *reader) Peek(n int) ([]byte, error) {
	b, err := p.r.Peek(n)
	if err == nil {
		p.views = append(p.views, view{b, p.pos})
	}
	return b, err
}

func (p *reader) Next(n int) ([]byte, error) {
	b, err := p.r.Next(n)
	if err == nil {
		p.views = append(p.views, view{b, p.pos})
		p.pos += n
	}
	return b, err
}

func (p *reader) Skip(n int) error {
	err := p.r.Skip(n)
	if err == nil {
		p.pos += n
	}
	return err
}

func (p *reader) Release() error {
	for _, v := range p.views {
		n := min(len(v.b), p.pos-v.from)
		for i := range n {
			v.b[i] = Byte
		}
	}
	clear(p.views)
	p.views, p.pos = p.views[:0], 0
	return p.r.Release()
}
