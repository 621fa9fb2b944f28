package transcode

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTemplate reports a google.api.http path template that does not follow
// the grammar of google/api/http.proto.
var ErrTemplate = errors.New("transcode: bad path template")

// maxTemplateSegs bounds the fixed segments of a template (those before a
// trailing "**"), so a Match records segment offsets in fixed arrays.
const maxTemplateSegs = 32

// tmplSegKind is the kind of one template segment.
type tmplSegKind uint8

const (
	tmplLiteral tmplSegKind = iota // exact text
	tmplWild                       // "*": one non-empty segment
	tmplDeep                       // "**": zero or more segments, last only
)

// tmplSeg is one segment of a parsed template.
type tmplSeg struct {
	kind tmplSegKind
	lit  string
}

// tmplVar is a variable of a parsed template: the field path it binds and
// the segments [first, last) it covers. A variable ending in "**" runs to the
// end of the path.
type tmplVar struct {
	field string // dotted field path, e.g. "book.id"
	first int
	last  int
	deep  bool
	multi bool // spans more than one segment: %2F stays escaped
}

// pathTemplate is a parsed google.api.http path template.
type pathTemplate struct {
	src  string
	segs []tmplSeg
	verb string
	vars []tmplVar
}

// parseTemplate parses a template such as
// "/v1/{name=shelves/*/books/**}:publish" (google/api/http.proto grammar:
// Template = "/" Segments [ Verb ]).
func parseTemplate(src string) (*pathTemplate, error) {
	t := &pathTemplate{src: src}
	if !strings.HasPrefix(src, "/") {
		return nil, tmplErr(src, "must start with '/'")
	}
	body, verb, err := splitTemplateVerb(src[1:])
	if err != nil {
		return nil, tmplErr(src, err.Error())
	}
	if verb != "" {
		if !isTemplateLiteral(verb) || strings.IndexByte(verb, ':') >= 0 {
			return nil, tmplErr(src, "bad verb")
		}
		t.verb = verb
	}
	if body == "" && verb == "" {
		return t, nil // "/" matches the root only
	}
	if err := t.parseSegments(body); err != nil {
		return nil, tmplErr(src, err.Error())
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

func tmplErr(src, msg string) error {
	return fmt.Errorf("%w %q: %s", ErrTemplate, src, msg)
}

// splitTemplateVerb cuts ":verb" off the last segment, looking only outside
// braces, since a variable's pattern never holds a verb.
func splitTemplateVerb(s string) (body, verb string, err error) {
	depth, last := 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			last = i
		case '/':
			if depth == 0 {
				last = i
			}
		}
		if depth < 0 || depth > 1 {
			return "", "", errors.New("unbalanced braces")
		}
	}
	if depth != 0 {
		return "", "", errors.New("unbalanced braces")
	}
	if c := strings.IndexByte(s[last+1:], ':'); c >= 0 {
		c += last + 1
		if c == len(s)-1 {
			return "", "", errors.New("empty verb")
		}
		return s[:c], s[c+1:], nil
	}
	return s, "", nil
}

// parseSegments reads Segments = Segment { "/" Segment }.
func (t *pathTemplate) parseSegments(s string) error {
	for len(s) > 0 {
		var seg string
		var err error
		if s[0] == '{' {
			end := strings.IndexByte(s, '}')
			seg, s = s[:end+1], s[end+1:]
			err = t.parseVariable(seg[1 : len(seg)-1])
		} else {
			end := strings.IndexByte(s, '/')
			if end < 0 {
				end = len(s)
			}
			seg, s = s[:end], s[end:]
			err = t.addSegment(seg)
		}
		if err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		if s[0] != '/' || len(s) == 1 {
			return fmt.Errorf("unexpected %q", s)
		}
		s = s[1:]
	}
	return errors.New("empty segment")
}

// addSegment appends one "*", "**" or literal segment.
func (t *pathTemplate) addSegment(seg string) error {
	switch {
	case seg == "*":
		t.segs = append(t.segs, tmplSeg{kind: tmplWild})
	case seg == "**":
		t.segs = append(t.segs, tmplSeg{kind: tmplDeep})
	case isTemplateLiteral(seg):
		t.segs = append(t.segs, tmplSeg{kind: tmplLiteral, lit: seg})
	default:
		return fmt.Errorf("bad segment %q", seg)
	}
	return nil
}

// parseVariable reads FieldPath [ "=" Segments ] from inside braces.
func (t *pathTemplate) parseVariable(s string) error {
	field, pattern, hasPattern := strings.Cut(s, "=")
	if !isFieldPath(field) {
		return fmt.Errorf("bad variable name %q", field)
	}
	if !hasPattern {
		pattern = "*"
	}
	if pattern == "" || strings.ContainsAny(pattern, "{}") {
		return fmt.Errorf("bad pattern for variable %q", field)
	}
	v := tmplVar{field: field, first: len(t.segs)}
	for _, seg := range strings.Split(pattern, "/") {
		if err := t.addSegment(seg); err != nil {
			return err
		}
	}
	v.last = len(t.segs)
	v.deep = t.segs[v.last-1].kind == tmplDeep
	v.multi = v.deep || v.last-v.first > 1
	t.vars = append(t.vars, v)
	return nil
}

// check enforces what the grammar leaves to prose: "**" only last, unique
// variable names, no variable inside another's field path, bounded size,
// and no ':' in a last literal (inside braces), which a path could not tell
// from a verb.
func (t *pathTemplate) check() error {
	for i, s := range t.segs {
		if s.kind == tmplDeep && i != len(t.segs)-1 {
			return tmplErr(t.src, "'**' must be the last segment")
		}
	}
	if n := len(t.segs); n > 0 && strings.IndexByte(t.segs[n-1].lit, ':') >= 0 {
		return tmplErr(t.src, "':' in the last segment reads as a verb")
	}
	if len(t.segs) > maxTemplateSegs {
		return tmplErr(t.src, "too many segments")
	}
	for i, v := range t.vars {
		for _, w := range t.vars[:i] {
			if v.field == w.field || strings.HasPrefix(v.field, w.field+".") ||
				strings.HasPrefix(w.field, v.field+".") {
				return tmplErr(t.src, "variable "+v.field+" overlaps "+w.field)
			}
		}
	}
	return nil
}

// shape is the template with variables erased, e.g. "/v1/*/books/**:watch":
// two templates of one shape match exactly the same paths.
func (t *pathTemplate) shape() string {
	var b strings.Builder
	for _, s := range t.segs {
		b.WriteByte('/')
		switch s.kind {
		case tmplWild:
			b.WriteByte('*')
		case tmplDeep:
			b.WriteString("**")
		default:
			b.WriteString(s.lit)
		}
	}
	if len(t.segs) == 0 {
		b.WriteByte('/')
	}
	if t.verb != "" {
		b.WriteByte(':')
		b.WriteString(t.verb)
	}
	return b.String()
}

// isTemplateLiteral accepts the RFC 3986 pchar set without '%' escapes and
// without the characters the template grammar reserves.
func isTemplateLiteral(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLiteralByte(s[i]) {
			return false
		}
	}
	return true
}

func isLiteralByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()+,;:@", c) >= 0
}

// isFieldPath accepts IDENT { "." IDENT }.
func isFieldPath(s string) bool {
	for _, id := range strings.Split(s, ".") {
		if !isTemplateIdent(id) {
			return false
		}
	}
	return true
}

func isTemplateIdent(s string) bool {
	if s == "" || ('0' <= s[0] && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
