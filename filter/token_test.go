package filter

import "testing"

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{
		"x-tenant": true, "Grpc-Metadata-Foo": true, "a!#$%&'*+-.^_`|~9": true,
		"": false, "a b": false, "a:b": false, "a\x7f": false, "ä": false, "a/b": false, "{x}": false,
	} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v; want %v", s, got, want)
		}
	}
}
