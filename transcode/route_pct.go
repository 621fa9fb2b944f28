package transcode

// Percent-decoding of request paths and queries (RFC 3986 §2.1) under the
// google.api.http rules: a single-segment variable decodes every escape; a
// multi-segment one keeps "%2F" and "%2f" as they are, so a decoded value
// still splits into the segments the client sent.

// pctUnhex returns the value of a hex digit, or -1.
func pctUnhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// validPct reports whether every '%' in b starts a two-hex-digit escape.
func validPct(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '%' {
			continue
		}
		if i+2 >= len(b) || pctUnhex(b[i+1]) < 0 || pctUnhex(b[i+2]) < 0 {
			return false
		}
		i += 2
	}
	return true
}

// isSlashEscape reports whether b[i:] starts with "%2F" or "%2f".
func isSlashEscape(b []byte, i int) bool {
	return i+2 < len(b) && b[i] == '%' && b[i+1] == '2' && (b[i+2] == 'F' || b[i+2] == 'f')
}

// appendPctDecoded appends b with its escapes decoded; plus turns '+' into a
// space (query strings). The caller has checked the escapes.
func appendPctDecoded(dst, b []byte, keepSlash, plus bool) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '%' && i+2 < len(b) && !(keepSlash && isSlashEscape(b, i)):
			c = byte(pctUnhex(b[i+1])<<4 | pctUnhex(b[i+2]))
			i += 2
		case c == '+' && plus:
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// pctEqual reports whether the escaped segment s decodes to lit.
func pctEqual(s []byte, lit string) bool {
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return false
			}
			c = byte(pctUnhex(s[i+1])<<4 | pctUnhex(s[i+2]))
			i += 2
		}
		if j >= len(lit) || lit[j] != c {
			return false
		}
		j++
	}
	return j == len(lit)
}
