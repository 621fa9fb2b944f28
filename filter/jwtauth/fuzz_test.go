package jwtauth

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/internal/testjwt"
)

// FuzzVerify: whatever a client sends, a token passes only if it carries
// the payload the issuer signed (base64's spare bits may vary, the
// claims may not), and nothing panics.
func FuzzVerify(f *testing.F) {
	es := newSigner(f, "ec-1", jose.ES256)
	ed := newSigner(f, "ed-1", jose.EdDSA)
	k, err := StaticKeys("fuzz", jwks(f, es, ed))
	if err != nil {
		f.Fatal(err)
	}
	flt, _ := New([]Rule{{Issuer: iss, Audiences: []string{"books"}, Keys: k}})
	now := time.Unix(1_800_000_000, 0)
	claims := testjwt.Claims(iss, "books", now)
	signed := map[string]map[string]any{}
	for _, s := range []testjwt.Key{es, ed} {
		tok := s.Sign(f, claims)
		f.Add(tok)
		f.Add(tamper(tok))
		signed[tok] = claims
	}
	f.Add(unsigned(claims))
	f.Add(testjwt.HS256("ec-1", []byte("secret"), claims))
	f.Add("e30.e30.")
	want, _ := decodeClaims(mustJSON(f, claims))
	f.Fuzz(func(t *testing.T, tok string) {
		v, _, err := flt.verify(tok, flt.all, now)
		if err != nil {
			return
		}
		if !reflect.DeepEqual(v.claims, want) {
			t.Fatalf("%q passed with claims %v; only %v were signed", tok, v.claims, want)
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseJWKS: a JWKS from the network never panics the parser, and
// what it keeps is usable and bounded.
func FuzzParseJWKS(f *testing.F) {
	es := newSigner(f, "ec-1", jose.ES256)
	f.Add(jwks(f, es))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	hs, _ := json.Marshal(jose.JSONWebKey{Key: es.Priv.Public(), KeyID: "x", Algorithm: "HS256"})
	f.Add([]byte(`{"keys":[` + string(hs) + `]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := parseJWKS(data)
		if err != nil {
			return
		}
		if len(ks.all) == 0 || len(ks.all) > maxJWKSKeys {
			t.Fatalf("%d keys kept", len(ks.all))
		}
		for _, k := range ks.all {
			if !slices.ContainsFunc(algorithms, func(a jose.SignatureAlgorithm) bool { return fits(k, string(a)) }) {
				t.Fatalf("kept a key %T (alg %q) no accepted algorithm fits", k.pub, k.alg)
			}
		}
	})
}
