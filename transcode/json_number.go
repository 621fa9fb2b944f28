package transcode

import (
	"math"
	"strconv"
	"unsafe"
)

// numParts splits a number that numberLen accepted (protojson's
// parseNumberParts): intp without a leading zero, frac without trailing
// zeros, exp with its sign.
type numParts struct {
	neg             bool
	intp, frac, exp []byte
}

func splitNumber(b []byte) numParts {
	var p numParts
	if b[0] == '-' {
		p.neg, b = true, b[1:]
	}
	i := 0
	if b[0] == '0' {
		b = b[1:]
	} else {
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		p.intp, b = b[:i], b[i:]
	}
	if len(b) >= 2 && b[0] == '.' && isDigit(b[1]) {
		i = 1
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		p.frac, b = b[1:i], b[i:]
		for len(p.frac) > 0 && p.frac[len(p.frac)-1] == '0' {
			p.frac = p.frac[:len(p.frac)-1]
		}
	}
	if len(b) >= 2 && (b[0] == 'e' || b[0] == 'E') {
		p.exp = b[1:]
	}
	return p
}

// parseExp parses an exponent as strconv.ParseInt(exp, 10, 32) would.
func parseExp(b []byte) (int, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg, b = b[0] == '-', b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
		if v > 1<<31 {
			return 0, false
		}
	}
	if neg {
		return -v, true
	}
	if v > 1<<31-1 {
		return 0, false
	}
	return v, true
}

// intMagnitude returns the integer value of a number token as sign and
// magnitude, false if it is not an integer or exceeds 20 digits or 64 bits
// (protojson's normalizeToIntString followed by strconv).
func intMagnitude(b []byte) (neg bool, mag uint64, ok bool) {
	if neg, mag, ok, plain := plainInt(b); plain {
		return neg, mag, ok
	}
	p := splitNumber(b)
	if len(p.exp) == 1 && (p.exp[0] == '+' || p.exp[0] == '-') {
		return false, 0, false // "1e+": protojson's parseNumberParts fails
	}
	if len(p.intp) == 0 && len(p.frac) == 0 {
		return false, 0, true
	}
	exp := 0
	if len(p.exp) > 0 {
		if exp, ok = parseExp(p.exp); !ok {
			return false, 0, false
		}
	}
	var digits, zeros []byte
	pad := 0
	if exp >= 0 {
		if len(p.frac) > exp || len(p.intp)+exp > 20 {
			return false, 0, false
		}
		digits, zeros, pad = p.intp, p.frac, exp-len(p.frac)
	} else {
		if len(p.frac) > 0 {
			return false, 0, false
		}
		idx := len(p.intp) + exp
		if idx < 0 {
			return false, 0, false
		}
		for _, c := range p.intp[idx:] {
			if c != '0' {
				return false, 0, false
			}
		}
		digits = p.intp[:idx]
		if len(digits) == 0 {
			return false, 0, false // strconv rejects the empty string
		}
	}
	mag, ok = accumulate(0, digits)
	if ok {
		mag, ok = accumulate(mag, zeros)
	}
	for ; ok && pad > 0; pad-- {
		ok = mag <= math.MaxUint64/10
		mag *= 10
	}
	return p.neg, mag, ok
}

// plainInt is the fast path of intMagnitude for digits without fraction or
// exponent; plain is false when b has either.
func plainInt(b []byte) (neg bool, mag uint64, ok, plain bool) {
	i := 0
	if b[0] == '-' {
		neg, i = true, 1
	}
	for j := i; j < len(b); j++ {
		if !isDigit(b[j]) {
			return false, 0, false, false
		}
	}
	if len(b)-i > 20 {
		return neg, 0, false, true
	}
	mag, ok = accumulate(0, b[i:])
	if mag == 0 {
		neg = false // "-0" is 0
	}
	return neg, mag, ok, true
}

func accumulate(v uint64, digits []byte) (uint64, bool) {
	for _, c := range digits {
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		d := uint64(c - '0')
		if v+d < v {
			return 0, false
		}
		v += d
	}
	return v, true
}

// jsonInt converts a number token to a signed integer of bits bits.
func jsonInt(b []byte, bits int) (int64, bool) {
	neg, mag, ok := intMagnitude(b)
	if !ok {
		return 0, false
	}
	lim := uint64(1) << (bits - 1)
	if neg {
		if mag > lim {
			return 0, false
		}
		return -int64(mag), true // wraps correctly at the minimum
	}
	if mag >= lim {
		return 0, false
	}
	return int64(mag), true
}

// jsonUint converts a number token to an unsigned integer of bits bits.
func jsonUint(b []byte, bits int) (uint64, bool) {
	neg, mag, ok := intMagnitude(b)
	if !ok || (neg && mag != 0) {
		return 0, false
	}
	if bits == 32 && mag > math.MaxUint32 {
		return 0, false
	}
	return mag, true
}

// jsonFloat converts a number token as strconv.ParseFloat does; b is not
// retained, so viewing it as a string is safe and saves a copy.
func jsonFloat(b []byte, bits int) (float64, bool) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), bits)
	return f, err == nil
}

// wholeNumber reports whether s (a string's content) is exactly one JSON
// number, as protojson requires of numbers in strings.
func wholeNumber(s []byte) bool {
	n, ok := numberLen(s)
	return ok && n == len(s) && n > 0
}

// bytesView views b as a string without copying; the string must not
// outlive the call it is passed to.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
