package transcode

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		src   string
		shape string
		verb  string
		vars  string // field[first,last) per variable, "+" marks multi-segment
	}{
		{"/", "/", "", ""},
		{"/v1/shelves", "/v1/shelves", "", ""},
		{"/v1/{name}", "/v1/*", "", "name[1,2)"},
		{"/v1/{name=*}", "/v1/*", "", "name[1,2)"},
		{"/v1/{name=shelves/*/books/*}", "/v1/shelves/*/books/*", "", "name[1,5)+"},
		{"/v1/{name=files/**}", "/v1/files/**", "", "name[1,3)+"},
		{"/v1/{name=**}:cancel", "/v1/**:cancel", "cancel", "name[1,2)+"},
		{"/v1/*/x/**", "/v1/*/x/**", "", ""},
		{"/v1/books:watch", "/v1/books:watch", "watch", ""},
		{"/v1/{a}/{b.c.d}:do", "/v1/*/*:do", "do", "a[1,2) b.c.d[2,3)"},
		{"/v1/a:b/c", "/v1/a:b/c", "", ""},
	}
	for _, tt := range tests {
		tp, err := parseTemplate(tt.src)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		var vars []string
		for _, v := range tp.vars {
			s := fmt.Sprintf("%s[%d,%d)", v.field, v.first, v.last)
			if v.multi {
				s += "+"
			}
			vars = append(vars, s)
		}
		if got := strings.Join(vars, " "); tp.shape() != tt.shape || tp.verb != tt.verb || got != tt.vars {
			t.Errorf("%q: got %q %q %q; want %q %q %q", tt.src, tp.shape(), tp.verb, got, tt.shape, tt.verb, tt.vars)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for _, src := range []string{
		"", "v1/x", "/v1/", "//", "/v1//x", "/v1/**/x", "/v1/{name=**}/x", "/v1/{x}/{x}",
		"/v1/{a}/{a.b}", "/v1/{a.b}/{a}", "/v1/{x=}", "/v1/{=x}", "/v1/{x", "/v1/x}", "/v1/{x={y}}",
		"/v1/{1x}", "/v1/{x.}", "/v1/x:", "/:verb", "/v1/x y", "/v1/%41", "/v1/x?y", "/v1/{x}y",
		"/v1/{x=a//b}", "/v1/***", "/v1/a:b:c", "/v1/{x=a:b}", "/v1/{x=a/{b}}", "/" + strings.Repeat("a/", 40) + "b",
	} {
		if tp, err := parseTemplate(src); !errors.Is(err, ErrTemplate) {
			t.Errorf("%q: got %+v, %v; want ErrTemplate", src, tp, err)
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"/", "/v1/{name=shelves/*/books/**}:publish", "/v1/{a.b}/c:d",
		"/v1/**", "/v1/{x=**}/y", "/v1/{x=a:b}", "/{x=a:b/c}", "/{a}/{b}/{c}", "/v1/x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := parseTemplate(src)
		if err != nil {
			if !errors.Is(err, ErrTemplate) {
				t.Fatalf("%q: error %v is not ErrTemplate", src, err)
			}
			return
		}
		// A parsed template's shape parses again to the same shape.
		again, err := parseTemplate(tp.shape())
		if err != nil || again.shape() != tp.shape() || again.verb != tp.verb {
			t.Fatalf("%q: shape %q does not reparse: %v", src, tp.shape(), err)
		}
		for i, s := range tp.segs {
			if s.kind == tmplDeep && i != len(tp.segs)-1 {
				t.Fatalf("%q: ** not last", src)
			}
		}
		for _, v := range tp.vars {
			if v.first >= v.last || v.last > len(tp.segs) {
				t.Fatalf("%q: bad span %+v", src, v)
			}
		}
	})
}
