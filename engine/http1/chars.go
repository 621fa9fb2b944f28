package http1

import "encoding/binary"

// Character classes, built once. Tables beat switch chains on the head's
// hot loops.
var (
	tokenChar  [256]bool // tchar (RFC 9110 §5.6.2)
	targetChar [256]bool // visible ASCII but '#'; '%' checked apart
	valueChar  [256]bool // field-vchar, SP, HT, obs-text (RFC 9110 §5.5)
	hostChar   [256]bool // reg-name, IP-literal and port characters (RFC 3986 §3.2.2)
	hexVal     [256]int8 // hex digit value, or -1
)

func init() {
	for c := '0'; c <= '9'; c++ {
		tokenChar[c], hostChar[c] = true, true
	}
	for c := 'a'; c <= 'z'; c++ {
		tokenChar[c], hostChar[c] = true, true
		tokenChar[c-'a'+'A'], hostChar[c-'a'+'A'] = true, true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		tokenChar[c] = true
	}
	for _, c := range []byte("-._~!$&'()*+,;=:[]%") {
		hostChar[c] = true
	}
	for c := 0x21; c < 0x7f; c++ {
		targetChar[c] = c != '#'
	}
	for c := 0x20; c < 0x100; c++ {
		valueChar[c] = c != 0x7f
	}
	valueChar['\t'] = true
	for i := range hexVal {
		hexVal[i] = -1
	}
	for i, c := range []byte("0123456789abcdef") {
		hexVal[c] = int8(i)
		if c >= 'a' {
			hexVal[c-'a'+'A'] = int8(i)
		}
	}
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChar[c] {
			return false
		}
	}
	return true
}

// validValue reports whether b holds only field-value characters. Eight
// bytes at a time, it looks for a byte below 0x20 or equal to 0x7f (exact
// for any byte values, RFC-free bit trick: hasless and haszero); only a
// word with a hit, usually an HT, goes through the table.
func validValue(b []byte) bool {
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if (x-lsb*0x20)&^x&msb != 0 || hasZero(x^(lsb*0x7f)) {
			if !validValueSlow(b[:8]) {
				return false
			}
		}
		b = b[8:]
	}
	return validValueSlow(b)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

func hasZero(x uint64) bool { return (x-lsb)&^x&msb != 0 }

func validValueSlow(b []byte) bool {
	for _, c := range b {
		if !valueChar[c] {
			return false
		}
	}
	return true
}

func validHost(b []byte) bool {
	for _, c := range b {
		if !hostChar[c] {
			return false
		}
	}
	return true
}

// validTarget reports whether b holds only request-target characters with
// well-formed percent escapes (RFC 3986 §2.1). Words of eight plain
// characters (no control, SP, DEL, non-ASCII, '#' or '%') are skipped
// whole; the rest goes byte by byte from the first word that is not.
func validTarget(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if x&msb != 0 || (x-lsb*0x21)&^x&msb != 0 || hasZero(x^(lsb*0x7f)) ||
			hasZero(x^(lsb*'#')) || hasZero(x^(lsb*'%')) {
			break
		}
	}
	return validTargetSlow(b[i:])
}

func validTargetSlow(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !targetChar[c] {
			return false
		}
		if c == '%' {
			if i+2 >= len(b) || hexVal[b[i+1]] < 0 || hexVal[b[i+2]] < 0 {
				return false
			}
			i += 2
		}
	}
	return true
}

// trimOWS drops optional whitespace (SP, HT) at both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold compares b with lower, which must be lower-case ASCII.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// nextToken splits a comma-separated list element off b (RFC 9110 §5.6.1),
// trimmed of OWS; empty elements are returned as empty.
func nextToken(b []byte) (tok, rest []byte) {
	for i, c := range b {
		if c == ',' {
			return trimOWS(b[:i]), b[i+1:]
		}
	}
	return trimOWS(b), nil
}
