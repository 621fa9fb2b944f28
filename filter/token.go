package filter

// IsToken reports whether s is a non-empty RFC 9110 token: what a header
// name (and a content type's codec) may be. Filters that take a header
// name from configuration check it with this.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

// tokenByte holds RFC 9110's tchar: letters, digits and !#$%&'*+-.^_`|~.
var tokenByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c > ' ' && c < 0x7f
	}
	for _, c := range `"(),/:;<=>?@[\]{}` {
		t[c] = false
	}
	return t
}()
