package transcode

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON scanner follows protojson's tokenizer exactly (the reference for
// what is accepted): whitespace is space, tab, CR and LF; literals and
// numbers must end at a delimiter; strings must be valid UTF-8 without
// control characters; \u escapes pair surrogates.

func (d *codecState) ws() {
	for d.pos < len(d.in) {
		switch d.in[d.pos] {
		case ' ', '\n', '\r', '\t':
			d.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *codecState) peek() byte {
	d.ws()
	if d.pos < len(d.in) {
		return d.in[d.pos]
	}
	return 0
}

func (d *codecState) errSyntax(msg string) error {
	return &Error{Offset: d.pos, Msg: "syntax error: " + msg}
}

func (d *codecState) errUnexpected() error {
	if d.pos >= len(d.in) {
		return &Error{Offset: d.pos, Msg: "unexpected end of JSON"}
	}
	end := d.pos + 1
	for end < len(d.in) && end-d.pos < 32 && isNotDelim(d.in[end]) {
		end++
	}
	return &Error{Offset: d.pos, Msg: "unexpected token " + quoteRaw(d.in[d.pos:end])}
}

// isNotDelim reports bytes that may not follow a literal or number.
func isNotDelim(c byte) bool {
	return c == '-' || c == '+' || c == '.' || c == '_' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// literal consumes lit at pos if it ends at a delimiter.
func (d *codecState) literal(lit string) bool {
	end := d.pos + len(lit)
	if end > len(d.in) || string(d.in[d.pos:end]) != lit {
		return false
	}
	if end < len(d.in) && isNotDelim(d.in[end]) {
		return false
	}
	d.pos = end
	return true
}

// numberLen returns the length of the JSON number at the start of b, with
// protojson's grammar (including its acceptance of an exponent without
// digits when a delimiter follows, as in "1e ").
func numberLen(b []byte) (int, bool) {
	n := 0
	if n < len(b) && b[n] == '-' {
		n++
	}
	switch {
	case n >= len(b):
		return 0, false
	case b[n] == '0':
		n++
	case '1' <= b[n] && b[n] <= '9':
		n++
		for n < len(b) && isDigit(b[n]) {
			n++
		}
	default:
		return 0, false
	}
	if n+1 < len(b) && b[n] == '.' && isDigit(b[n+1]) {
		n += 2
		for n < len(b) && isDigit(b[n]) {
			n++
		}
	}
	if n+1 < len(b) && (b[n] == 'e' || b[n] == 'E') {
		n++
		if b[n] == '+' || b[n] == '-' {
			n++
			if n == len(b) {
				return 0, false
			}
		}
		for n < len(b) && isDigit(b[n]) {
			n++
		}
	}
	if n < len(b) && isNotDelim(b[n]) {
		return 0, false
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number consumes a number token and returns its bytes.
func (d *codecState) number() ([]byte, bool) {
	n, ok := numberLen(d.in[d.pos:])
	if !ok {
		return nil, false
	}
	b := d.in[d.pos : d.pos+n]
	d.pos += n
	return b, true
}

// strClass marks bytes that end the fast path of string scanning.
var strClass = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	for i := 0x80; i < 0x100; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str consumes a string token at pos (which holds '"') and returns its raw
// content, validated, and whether it holds escapes.
func (d *codecState) str() (raw []byte, esc bool, err error) {
	in := d.in
	i := d.pos + 1
	start := i
	for {
		i = plainRun(in, i)
		for i < len(in) && !strClass[in[i]] {
			i++
		}
		if i >= len(in) {
			d.pos = i
			return nil, false, d.errSyntax("unterminated string")
		}
		switch c := in[i]; {
		case c == '"':
			d.pos = i + 1
			return in[start:i], esc, nil
		case c == '\\':
			n, ok := escapeLen(in[i:])
			if !ok {
				d.pos = i
				return nil, false, d.errSyntax("invalid escape in string")
			}
			i, esc = i+n, true
		case c < 0x20:
			d.pos = i
			return nil, false, d.errSyntax("invalid control character in string")
		default:
			r, n := utf8.DecodeRune(in[i:])
			if r == utf8.RuneError && n == 1 {
				d.pos = i
				return nil, false, d.errSyntax("invalid UTF-8 in string")
			}
			i += n
		}
	}
}

// plainRun skips bytes that need no attention in a string (not '"', '\\',
// a control byte or non-ASCII), eight at a time: most JSON strings are
// plain ASCII, and a byte loop with a table lookup dominates otherwise.
func plainRun(in []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(in); i += 8 {
		x := binary.LittleEndian.Uint64(in[i:])
		q, b := x^(lo*'"'), x^(lo*'\\')
		if ((x-lo*0x20)&^x|(q-lo)&^q|(b-lo)&^b|x)&hi != 0 {
			return i
		}
	}
	return i
}

// escapeLen validates the escape at the start of b and returns its length.
func escapeLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
	default:
		return 0, false
	}
	r, ok := hex4(b[2:])
	if !ok {
		return 0, false
	}
	if !utf16.IsSurrogate(r) {
		return 6, true
	}
	if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
		return 0, false
	}
	r2, ok := hex4(b[8:])
	if !ok || utf16.DecodeRune(r, r2) == utf8.RuneError {
		return 0, false
	}
	return 12, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnescaped appends the value of validated string content raw.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw[i+2:])
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(raw[i+8:])
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// strValue consumes a string token and returns its value: a slice of the
// input when unescaped, else of d.tmp (valid until the next strValue).
func (d *codecState) strValue() ([]byte, error) {
	raw, esc, err := d.str()
	if err != nil || !esc {
		return raw, err
	}
	d.tmp = appendUnescaped(d.tmp[:0], raw)
	return d.tmp, nil
}

// skipValue consumes any JSON value, validating it, with at most limit
// levels of nested objects and arrays (protojson's skipJSONValue).
func (d *codecState) skipValue(limit int) error { return d.skipNested(limit, 0) }

func (d *codecState) skipNested(limit, open int) error {
	c := d.peek()
	if c != '{' && c != '[' {
		return d.skipScalar()
	}
	open++
	if open > limit {
		return &Error{Offset: d.pos, Msg: "exceeded max recursion depth"}
	}
	d.pos++
	if d.peek() == c+2 { // '}' or ']'
		d.pos++
		return nil
	}
	for {
		if c == '{' {
			if err := d.name(); err != nil {
				return err
			}
		}
		if err := d.skipNested(limit, open); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case c + 2:
			d.pos++
			return nil
		default:
			return d.errUnexpected()
		}
	}
}

// name consumes `"name" :` and returns nothing; see readName for the value.
func (d *codecState) name() error {
	_, err := d.readName()
	return err
}

// readName consumes an object member name and the colon after it.
func (d *codecState) readName() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.errUnexpected()
	}
	name, err := d.strValue()
	if err != nil {
		return nil, err
	}
	if d.peek() != ':' {
		return nil, d.errSyntax(`missing ":" after field name`)
	}
	d.pos++
	return name, nil
}

func (d *codecState) skipScalar() error {
	switch d.peek() {
	case '"':
		_, _, err := d.str()
		return err
	case 'n':
		if d.literal("null") {
			return nil
		}
	case 't':
		if d.literal("true") {
			return nil
		}
	case 'f':
		if d.literal("false") {
			return nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if _, ok := d.number(); ok {
			return nil
		}
	}
	return d.errUnexpected()
}

// atEnd skips whitespace and reports whether the input is all read.
func (d *codecState) atEnd() bool {
	d.ws()
	return d.pos >= len(d.in)
}
