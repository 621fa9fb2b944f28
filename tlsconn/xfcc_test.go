package tlsconn

import (
	"errors"
	"slices"
	"strconv"
	"testing"
)

// parseXFCC splits one XFCC element into its pairs, undoing the quoting
// of AppendXFCC (Envoy's rules: ';' between pairs, '=' in each, values
// with ',;=' double-quoted, '"' as \"). It is the fuzz target's reference.
func parseXFCC(s string) ([][2]string, error) {
	var out [][2]string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '=' {
			if s[i] == ';' || s[i] == ',' || s[i] == '"' {
				return nil, errors.New("bad key")
			}
			i++
		}
		if i == len(s) {
			return nil, errors.New("no =")
		}
		key := s[:i]
		s = s[i+1:]
		var val []byte
		if len(s) > 0 && s[0] == '"' {
			j := 1
			for ; j < len(s) && s[j] != '"'; j++ {
				c := s[j]
				if c != '\\' {
					val = append(val, c)
					continue
				}
				if j+1 >= len(s) {
					return nil, errors.New("dangling escape")
				}
				j++
				switch s[j] {
				case '"', '\\':
					val = append(val, s[j])
				case 'x':
					if j+2 >= len(s) {
						return nil, errors.New("short hex")
					}
					b, err := strconv.ParseUint(s[j+1:j+3], 16, 8)
					if err != nil {
						return nil, err
					}
					val = append(val, byte(b))
					j += 2
				default:
					return nil, errors.New("bad escape")
				}
			}
			if j >= len(s) {
				return nil, errors.New("unterminated quote")
			}
			s = s[j+1:]
		} else {
			j := 0
			for j < len(s) && s[j] != ';' {
				if s[j] == ',' || s[j] == '=' || s[j] == '"' {
					return nil, errors.New("unquoted special")
				}
				j++
			}
			val = []byte(s[:j])
			s = s[j:]
		}
		out = append(out, [2]string{key, string(val)})
		if len(s) > 0 {
			if s[0] != ';' {
				return nil, errors.New("want ;")
			}
			s = s[1:]
		}
	}
	return out, nil
}

// FuzzXFCC: whatever a certificate holds, the element is printable ASCII
// (a valid header value everywhere), holds no unquoted separator, and
// parses back to exactly its inputs.
func FuzzXFCC(f *testing.F) {
	f.Add("spiffe://gw", "ab12", "CN=alice,O=Acme\\, Inc.", "spiffe://acme/alice", "alice.test")
	f.Add("", "", `quo"te\back`, "a;b=c,d", "\x00\n\xff")
	f.Add("x", "h", "", "", "")
	f.Fuzz(func(t *testing.T, by, hash, subject, uri, dns string) {
		id := &Identity{Hash: hash, Subject: subject}
		want := [][2]string{}
		if by != "" {
			id.By = []string{by, by}
			want = append(want, [2]string{"By", by}, [2]string{"By", by})
		}
		want = append(want, [2]string{"Hash", hash}, [2]string{"Subject", subject})
		if uri != "" {
			id.URIs = []string{uri}
			want = append(want, [2]string{"URI", uri})
		}
		if dns != "" {
			id.DNS = []string{dns, "second.test"}
			want = append(want, [2]string{"DNS", dns}, [2]string{"DNS", "second.test"})
		}
		h := string(AppendXFCC(nil, id))
		for i := 0; i < len(h); i++ {
			if h[i] < 0x20 || h[i] > 0x7e {
				t.Fatalf("byte %#x at %d in %q", h[i], i, h)
			}
		}
		got, err := parseXFCC(h)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%q: got %q, %v; want %q", h, got, err, want)
		}
	})
}
