package transcode

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// httpRuleField is the number of the google.api.http extension of
// google.protobuf.MethodOptions.
const httpRuleField protowire.Number = 72295728

// httpRule is a decoded google.api.HttpRule. Fields keep their numbers from
// google/api/http.proto.
type httpRule struct {
	selector     string // 1
	method       string // get=2 put=3 post=4 delete=5 patch=6, custom=8 kind
	path         string
	body         string // 7
	responseBody string // 12
	additional   []httpRule
}

var ruleMethods = [...]string{2: "GET", 3: "PUT", 4: "POST", 5: "DELETE", 6: "PATCH"}

// methodRules returns the method's rule followed by its
// additional_bindings, or none. Options are re-marshaled so the rule is
// found whether it arrived as unknown bytes (no Go type for google.api.http
// linked in) or through a registered extension.
func methodRules(md protoreflect.MethodDescriptor) ([]httpRule, error) {
	opts := md.Options()
	if opts == nil {
		return nil, nil
	}
	raw, err := proto.MarshalOptions{AllowPartial: true}.Marshal(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: options: %v", ErrHTTPRule, md.FullName(), err)
	}
	var rule httpRule
	found := false
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil, ruleErr(md, protowire.ParseError(n))
		}
		raw = raw[n:]
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return nil, ruleErr(md, protowire.ParseError(m))
		}
		if num == httpRuleField && typ == protowire.BytesType {
			b, _ := protowire.ConsumeBytes(raw)
			if err := rule.merge(b, true); err != nil { // proto merge: last scalar wins
				return nil, ruleErr(md, err)
			}
			found = true
		}
		raw = raw[m:]
	}
	if !found {
		return nil, nil
	}
	out := append([]httpRule{rule}, rule.additional...)
	out[0].additional = nil
	return out, nil
}

func ruleErr(md protoreflect.MethodDescriptor, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrHTTPRule, md.FullName(), err)
}

// merge decodes an HttpRule message into r. Only the top-level rule may
// carry additional_bindings, as google/api/http.proto says.
func (r *httpRule) merge(b []byte, top bool) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		b = b[m:]
		if err := r.setField(num, v, top); err != nil {
			return err
		}
	}
	return nil
}

// setField applies one length-delimited field of an HttpRule.
func (r *httpRule) setField(num protowire.Number, v []byte, top bool) error {
	switch {
	case num == 1:
		r.selector = string(v)
	case num >= 2 && num <= 6:
		r.method, r.path = ruleMethods[num], string(v)
	case num == 7:
		r.body = string(v)
	case num == 8:
		return r.setCustom(v)
	case num == 12:
		r.responseBody = string(v)
	case num == 11:
		if !top {
			return fmt.Errorf("nested additional_bindings")
		}
		var add httpRule
		if err := add.merge(v, false); err != nil {
			return err
		}
		r.additional = append(r.additional, add)
	}
	return nil
}

// setCustom decodes CustomHttpPattern {kind=1, path=2}.
func (r *httpRule) setCustom(b []byte) error {
	r.method, r.path = "", ""
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, _ := protowire.ConsumeBytes(b)
			if num == 1 {
				r.method = string(v)
			} else {
				r.path = string(v)
			}
		}
		b = b[m:]
	}
	return nil
}
