package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxConfigBytes bounds a configuration file; real ones are a few KB.
const maxConfigBytes = 1 << 20

// maxConfigNodes bounds the nodes decoded, so aliases cannot expand a small
// file into a huge one ("billion laughs").
const maxConfigNodes = 100_000

// LoadConfig reads a YAML configuration strictly: unknown keys, duplicate
// keys and values of the wrong type are errors with their line:col. Relative
// descriptor and TLS file paths are taken relative to the file's directory. It neither
// fills defaults nor validates: call Defaults and Validate.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, err
	}
	if len(data) > maxConfigBytes {
		return Config{}, &ConfigError{Problems: []Problem{{File: path, Msg: fmt.Sprintf("larger than %d bytes", maxConfigBytes)}}}
	}
	c, err := ParseConfig(data, path)
	if err != nil {
		return Config{}, err
	}
	dir := filepath.Dir(path)
	for i, d := range c.Descriptors {
		if d != "" && !filepath.IsAbs(d) {
			c.Descriptors[i] = filepath.Join(dir, d)
			c.src.retarget(fmt.Sprintf("descriptors[%d]", i), c.Descriptors[i])
		}
	}
	c.resolveTLSPaths(dir)
	c.resolveJWKSPaths(dir)
	c.resolveAccessLogPath(dir)
	return c, nil
}

// ParseConfig decodes YAML configuration bytes as LoadConfig does; file
// names the source in error positions.
func ParseConfig(data []byte, file string) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, &ConfigError{Problems: []Problem{syntaxProblem(file, err)}}
	}
	d := decoder{src: &source{file: file, pos: map[string]position{}}}
	var c Config
	if len(doc.Content) > 0 {
		d.decode(doc.Content[0], reflect.ValueOf(&c).Elem(), "")
	}
	if len(d.problems) > 0 {
		return Config{}, &ConfigError{Problems: d.problems}
	}
	c.src = d.src
	return c, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a yaml.v3 parse error into a Problem; yaml.v3 reports
// the line but not the column of a syntax error.
func syntaxProblem(file string, err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: file, Line: line, Msg: m[2]}
	}
	return Problem{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// position is where a value sits in the file, and its text there: a value
// later replaced (by a flag) no longer matches and loses its position.
type position struct {
	line, col int
	value     string
}

// source maps value paths ("upstreams[0].endpoints[1]") to positions.
type source struct {
	file string
	pos  map[string]position
}

// at returns the position of path if it still holds value.
func (s *source) at(path, value string) (position, bool) {
	if s == nil {
		return position{}, false
	}
	p, ok := s.pos[path]
	return p, ok && p.value == value
}

func (s *source) retarget(path, value string) {
	if p, ok := s.pos[path]; ok {
		p.value = value
		s.pos[path] = p
	}
}

// decoder fills a Config from a yaml.Node tree by reflection over the yaml
// struct tags, collecting every problem instead of stopping at the first.
type decoder struct {
	src      *source
	problems []Problem
	nodes    int
}

var durationType = reflect.TypeFor[time.Duration]()

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.src.file, Line: n.Line, Col: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if d.nodes++; d.nodes > maxConfigNodes {
		if d.nodes == maxConfigNodes+1 {
			d.fail(n, path, "too many values (more than %d, expanding aliases)", maxConfigNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		d.src.pos[path] = position{n.Line, n.Column, n.Value}
		if n.Tag == "!!null" {
			return // "key:" with no value keeps the zero value
		}
	} else {
		d.src.pos[path] = position{n.Line, n.Column, ""}
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, v, path)
	case v.Kind() == reflect.Struct:
		d.structure(n, v, path)
	case v.Kind() == reflect.Slice:
		d.sequence(n, v, path)
	case v.Kind() == reflect.Map:
		d.mapping(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// structure decodes a mapping into a struct, rejecting unknown and repeated keys.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of %s, got %s", strings.Join(fieldNames(v.Type()), ", "), describe(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if prev := seen[k.Value]; prev != nil {
			d.fail(k, kp, "repeated key (first at line %d)", prev.Line)
			continue
		}
		seen[k.Value] = k
		f, ok := fieldByTag(v, k.Value)
		if !ok {
			d.fail(k, kp, "unknown key %q (%s)", k.Value, suggest(k.Value, fieldNames(v.Type())))
			continue
		}
		d.decode(val, f, kp)
	}
}

// sequence decodes a list into a slice.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.decode(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// mapping decodes a mapping with free keys (forward_claims) into a map
// keyed by string, rejecting repeated keys.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if prev := seen[k.Value]; prev != nil {
			d.fail(k, kp, "repeated key (first at line %d)", prev.Line)
			continue
		}
		seen[k.Value] = k
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	}
	v.Set(m)
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a duration such as \"5s\", got %s", describe(n))
		return
	}
	if n.Value == "0" {
		v.SetInt(0)
		return
	}
	t, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "want a duration such as \"5s\" or \"250ms\", got %q", n.Value)
		return
	}
	v.SetInt(int64(t))
	d.src.retarget(path, t.String()) // Validate compares canonical values
}

// scalar decodes strings, integers and booleans.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a single value, got %s", describe(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			d.fail(n, path, "want true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Uint32:
		d.integer(n, v, path)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			d.fail(n, path, "want a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, path, "cannot be set from YAML")
	}
}

func (d *decoder) integer(n *yaml.Node, v reflect.Value, path string) {
	i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err == nil && v.CanUint() {
		if i < 0 || v.OverflowUint(uint64(i)) {
			err = errors.New("out of range")
		}
	} else if err == nil && v.OverflowInt(i) {
		err = errors.New("out of range")
	}
	if err != nil {
		d.fail(n, path, "want an integer, got %q", n.Value)
		return
	}
	if v.CanUint() {
		v.SetUint(uint64(i))
	} else {
		v.SetInt(i)
	}
	d.src.retarget(path, strconv.FormatInt(i, 10))
}

// fieldByTag finds the struct field whose yaml tag is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tag := yamlName(t.Field(i)); tag != "" && tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// fieldNames lists the keys a struct accepts, for error messages.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if tag := yamlName(t.Field(i)); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}

// suggest names the known key closest to a misspelt one, or lists them all.
func suggest(key string, known []string) string {
	best, bestDist := "", 3 // at most two edits away
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "known: " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names a node's kind for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an empty document"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
