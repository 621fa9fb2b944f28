// Package testjwt makes signing keys, JWKS documents and tokens for
// tests: real ones (go-jose signs them) and the forged kinds a verifier
// must refuse. It is imported by tests only.
package testjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a private key a test signs with, its kid and algorithm.
type Key struct {
	KID  string
	Alg  jose.SignatureAlgorithm
	Priv crypto.Signer
}

var (
	rsaMu   sync.Mutex
	rsaKeys = map[string]*rsa.PrivateKey{}
)

// New makes a key of alg's type. RSA keys are made once per kid and
// run: generating them is slow.
func New(t testing.TB, kid string, alg jose.SignatureAlgorithm) Key {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		rsaMu.Lock()
		k := rsaKeys[kid]
		if k == nil {
			k, err = rsa.GenerateKey(rand.Reader, 2048)
			rsaKeys[kid] = k
		}
		rsaMu.Unlock()
		priv = k
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil || priv == nil {
		t.Fatalf("testjwt: key for %s: %v", alg, err)
	}
	return Key{KID: kid, Alg: alg, Priv: priv}
}

// JWK is k's public JWK.
func (k Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Priv.Public(), KeyID: k.KID, Use: "sig"}
}

// JWKS is a JWKS document of the keys' public halves.
func JWKS(t testing.TB, keys ...Key) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sign makes a compact JWS of claims (kid in the header unless k.KID is
// empty).
func (k Key) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return k.SignRaw(t, payload)
}

// SignRaw signs payload as it is.
func (k Key) SignRaw(t testing.TB, payload []byte) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.KID != "" {
		opts = opts.WithHeader("kid", k.KID)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.Priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sg.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Claims are valid claims of issuer iss for audience aud at now, for an
// hour, subject user-1.
func Claims(iss, aud string, now time.Time) map[string]any {
	return map[string]any{"iss": iss, "aud": aud, "sub": "user-1",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Unsigned is a token with alg none (RFC 7519 §6).
func Unsigned(claims map[string]any) string {
	return compact(map[string]string{"alg": "none", "typ": "JWT"}, claims, nil)
}

// HS256 signs claims with HMAC-SHA256 keyed by secret: the algorithm
// confusion attack when secret is an issuer's public key.
func HS256(kid string, secret []byte, claims map[string]any) string {
	return compact(map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid}, claims, secret)
}

func compact(header map[string]string, claims map[string]any, secret []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	in := enc(h) + "." + enc(p)
	if secret == nil {
		return in + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + enc(m.Sum(nil))
}
