package transcode

import (
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wktKind names the well-known types whose JSON form is special.
type wktKind uint8

const (
	wktNone wktKind = iota
	wktAny
	wktTimestamp
	wktDuration
	wktWrapper
	wktStruct
	wktListValue
	wktValue
	wktFieldMask
	wktEmpty
)

func wktOf(name protoreflect.FullName) wktKind {
	if name.Parent() != "google.protobuf" {
		return wktNone
	}
	switch name.Name() {
	case "Any":
		return wktAny
	case "Timestamp":
		return wktTimestamp
	case "Duration":
		return wktDuration
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue":
		return wktWrapper
	case "Struct":
		return wktStruct
	case "ListValue":
		return wktListValue
	case "Value":
		return wktValue
	case "FieldMask":
		return wktFieldMask
	case "Empty":
		return wktEmpty
	}
	return wktNone
}

// wktValue reads the special JSON form of a well-known type.
func (d *codecState) wktValue(p *Plan) error {
	switch p.wkt {
	case wktWrapper:
		_, err := d.scalar(p.field(1), true, true)
		return err
	case wktStruct:
		return d.mapValue(p.field(1))
	case wktListValue:
		return d.list(p.field(1))
	case wktValue:
		return d.knownValue(p)
	case wktTimestamp:
		return d.timestamp(p)
	case wktDuration:
		return d.duration(p)
	case wktFieldMask:
		return d.fieldMask(p)
	case wktEmpty:
		return d.empty()
	case wktAny:
		return d.anyValue(p)
	}
	return nil
}

// knownValue reads a google.protobuf.Value: any JSON value. Objects and
// arrays are read in place, without counting a nesting level, as protojson.
func (d *codecState) knownValue(p *Plan) error {
	at := d.pos
	switch c := d.peek(); {
	case c == 'n' && d.literal("null"):
		d.dst = append(d.dst, 1<<3|0, 0) // null_value = NULL_VALUE
	case c == 't' && d.literal("true"):
		d.dst = append(d.dst, 4<<3|0, 1)
	case c == 'f' && d.literal("false"):
		d.dst = append(d.dst, 4<<3|0, 0)
	case c == '-' || isDigit(c):
		b, ok := d.number()
		if !ok {
			return d.errUnexpected()
		}
		v, ok := jsonFloat(b, 64)
		if !ok {
			return &Error{Offset: at, Msg: "invalid google.protobuf.Value: " + quoteRaw(b)}
		}
		d.dst = protowire.AppendFixed64(append(d.dst, 2<<3|1), math.Float64bits(v))
	case c == '"':
		f := p.field(3)
		_, err := d.stringValue(f, true, false)
		return err
	case c == '{':
		d.dst = append(d.dst, 5<<3|2)
		at := d.open()
		err := d.mapValue(p.field(5).msg.field(1))
		d.close(at)
		return err
	case c == '[':
		d.dst = append(d.dst, 6<<3|2)
		at := d.open()
		err := d.list(p.field(6).msg.field(1))
		d.close(at)
		return err
	default:
		return &Error{Offset: at, Msg: "invalid google.protobuf.Value: " + quoteRaw(d.in[at:min(at+1, len(d.in))])}
	}
	return nil
}

// empty reads a google.protobuf.Empty: an object without members (which
// DiscardUnknown skips).
func (d *codecState) empty() error {
	if d.peek() != '{' {
		return d.errUnexpected()
	}
	d.pos++
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		at := d.pos
		if err := d.name(); err != nil {
			return err
		}
		if !d.s.opts.DiscardUnknown {
			return &Error{Offset: at, Msg: "unknown field " + quoteRaw(d.in[at:d.pos-1])}
		}
		if err := d.skipValue(d.depth); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.errUnexpected()
		}
	}
}

// fieldMask reads "a.fooBar,b" into paths "a.foo_bar" and "b".
func (d *codecState) fieldMask(p *Plan) error {
	if d.peek() != '"' {
		return d.errUnexpected()
	}
	at := d.pos
	s, err := d.strValue()
	if err != nil {
		return err
	}
	str := strings.TrimSpace(bytesView(s))
	if str == "" {
		return nil
	}
	tag := p.field(1).tag
	for {
		path := str
		i := strings.IndexByte(str, ',')
		if i >= 0 {
			path, str = str[:i], str[i+1:]
		}
		d.dst = protowire.AppendVarint(d.dst, tag)
		at2 := d.open()
		for j := 0; j < len(path); j++ {
			if c := path[j]; 'A' <= c && c <= 'Z' {
				d.dst = append(d.dst, '_', c+'a'-'A')
			} else {
				d.dst = append(d.dst, c)
			}
		}
		if strings.IndexByte(path, '_') >= 0 || !protoreflect.FullName(bytesView(d.dst[at2:])).IsValid() {
			return &Error{Offset: at, Msg: "google.protobuf.FieldMask.paths contains invalid path: " + quoteRaw([]byte(path))}
		}
		d.close(at2)
		if i < 0 {
			return nil
		}
	}
}
