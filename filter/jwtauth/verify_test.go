package jwtauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/internal/testjwt"
)

const iss = "https://idp.example.com/"

func TestVerify(t *testing.T) {
	now := time.Now()
	rs := newSigner(t, "rsa-1", jose.RS256)
	ps := testjwt.Key{KID: "rsa-1", Alg: jose.PS256, Priv: rs.Priv}
	es := newSigner(t, "ec-1", jose.ES256)
	ed := newSigner(t, "ed-1", jose.EdDSA)
	stranger := newSigner(t, "ec-1", jose.ES256) // same kid, another key
	es384 := testjwt.Key{KID: "ec-1", Alg: jose.ES384, Priv: newSigner(t, "", jose.ES384).Priv}
	f := staticFilter(t, Rule{Issuer: iss, Audiences: []string{"books", "shelves"}}, rs, es, ed)

	with := func(edit func(map[string]any)) map[string]any {
		c := claimsAt(iss, "books", now)
		edit(c)
		return c
	}
	good := claimsAt(iss, "books", now)
	pubDER, _ := x509.MarshalPKIXPublicKey(rs.Priv.Public())
	rsaPub := rs.Priv.Public().(*rsa.PublicKey)
	tests := []struct {
		name, tok string
		want      error
	}{
		{"RS256", rs.Sign(t, good), nil},
		{"PS256", ps.Sign(t, good), nil},
		{"ES256", es.Sign(t, good), nil},
		{"EdDSA", ed.Sign(t, good), nil},
		{"no kid", testjwt.Key{Alg: jose.ES256, Priv: es.Priv}.Sign(t, good), nil},
		{"second audience", es.Sign(t, with(func(c map[string]any) { c["aud"] = []string{"x", "shelves"} })), nil},
		{"expired within leeway", es.Sign(t, with(func(c map[string]any) { c["exp"] = now.Add(-10 * time.Second).Unix() })), nil},
		{"expired", es.Sign(t, with(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), ErrExpired},
		{"no exp", es.Sign(t, with(func(c map[string]any) { delete(c, "exp") })), ErrNoExpiry},
		{"nbf ahead", es.Sign(t, with(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() })), ErrNotYetValid},
		{"iat ahead", es.Sign(t, with(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix(); delete(c, "nbf") })), ErrIssuedInFuture},
		{"wrong audience", es.Sign(t, with(func(c map[string]any) { c["aud"] = "other" })), ErrAudience},
		{"no audience", es.Sign(t, with(func(c map[string]any) { delete(c, "aud") })), ErrAudience},
		{"wrong issuer", es.Sign(t, with(func(c map[string]any) { c["iss"] = "https://evil.example.com/" })), ErrIssuer},
		{"unknown kid", testjwt.Key{KID: "ec-9", Alg: jose.ES256, Priv: es.Priv}.Sign(t, good), ErrUnknownKey},
		{"bad signature", stranger.Sign(t, good), ErrSignature},
		{"curve not the key's", es384.Sign(t, good), ErrSignature},
		{"alg not the key's", testjwt.Key{KID: "ec-1", Alg: jose.EdDSA, Priv: ed.Priv}.Sign(t, good), ErrSignature},
		{"tampered payload", tamper(es.Sign(t, good)), ErrSignature},
		{"alg none", unsigned(good), ErrAlgorithm},
		{"HS256 keyed by the public key (DER)", testjwt.HS256("rsa-1", pubDER, good), ErrAlgorithm},
		{"HS256 keyed by the modulus", testjwt.HS256("rsa-1", rsaPub.N.Bytes(), good), ErrAlgorithm},
		{"two parts", "eyJhbGciOiJFUzI1NiJ9.e30", ErrMalformed},
		{"garbage", "not-a-token", ErrMalformed},
		{"payload not an object", es.SignRaw(t, []byte("[1,2]")), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _, err := f.verify(tt.tok, f.all, now)
			if err != tt.want {
				t.Fatalf("got %v; want %v", err, tt.want)
			}
			if err == nil && (v.claims["sub"] != "user-1" || v.claims["exp"] != json.Number(strconv.FormatInt(v.exp.Unix(), 10))) {
				t.Errorf("claims %v exp %v; want sub user-1 and exp as in the claims", v.claims, v.exp)
			}
		})
	}
}

// tamper changes the payload of a compact JWS, keeping its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	p = []byte(strings.Replace(string(p), "user-1", "admin1", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(p)
	return strings.Join(parts, ".")
}

func TestVerifyNoAudienceConfigured(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	f := staticFilter(t, Rule{Issuer: iss}, es)
	c := claimsAt(iss, "anything", time.Now())
	if _, _, err := f.verify(es.Sign(t, c), f.all, time.Now()); err != nil {
		t.Fatalf("got %v; want any audience accepted", err)
	}
}

func TestParseJWKS(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	ed := newSigner(t, "ed-1", jose.EdDSA)
	private, _ := json.Marshal(jose.JSONWebKey{Key: ed.Priv, KeyID: "ed-priv"})
	pub, _ := json.Marshal(es.JWK())
	enc, _ := json.Marshal(jose.JSONWebKey{Key: es.Priv.Public(), KeyID: "enc", Use: "enc"})
	oct, _ := json.Marshal(jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct"})
	hsAlg, _ := json.Marshal(jose.JSONWebKey{Key: es.Priv.Public(), KeyID: "hs", Algorithm: "HS256"})
	tests := []struct {
		name, doc string
		kids      []string
		err       bool
	}{
		{"public", `{"keys":[` + string(pub) + `]}`, []string{"ec-1"}, false},
		{"private counts as public", `{"keys":[` + string(private) + `]}`, []string{"ed-priv"}, false},
		{"odd keys skipped", `{"keys":[` + string(oct) + `,` + string(enc) + `,{"kty":"XYZ"},` + string(pub) + `]}`, []string{"ec-1"}, false},
		{"only symmetric", `{"keys":[` + string(oct) + `]}`, nil, true},
		{"alg not its type", `{"keys":[` + string(hsAlg) + `]}`, nil, true},
		{"empty", `{"keys":[]}`, nil, true},
		{"not JSON", `{"keys":`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := parseJWKS([]byte(tt.doc))
			if (err != nil) != tt.err {
				t.Fatalf("got %v; want error %v", err, tt.err)
			}
			for _, kid := range tt.kids {
				if len(ks.byKID[kid]) != 1 {
					t.Errorf("kid %q: got %d keys; want 1", kid, len(ks.byKID[kid]))
				}
			}
			if ks != nil && len(ks.all) != len(tt.kids) {
				t.Errorf("got %d keys; want %d", len(ks.all), len(tt.kids))
			}
			if ks != nil {
				for _, k := range ks.all {
					if _, ok := k.pub.(crypto.Signer); ok {
						t.Errorf("kept a private key %T", k.pub)
					}
				}
			}
		})
	}
}

func TestSmallRSAKeyRefused(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &small.PublicKey, KeyID: "small"}}})
	if _, err := parseJWKS(doc); err != ErrNoUsableKey {
		t.Fatalf("got %v; want %v", err, ErrNoUsableKey)
	}
}
