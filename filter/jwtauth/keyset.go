package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrNoUsableKey is returned for a JWKS with no key a token can be
// verified with.
var ErrNoUsableKey = errors.New("jwtauth: the JWKS has no usable public signing key")

// maxJWKSKeys bounds the keys kept from one JWKS.
const maxJWKSKeys = 64

// minRSABits refuses RSA keys too short to trust (RFC 7518 §3.3 asks
// for 2048).
const minRSABits = 2048

// algorithms are the signature algorithms a token may use: asymmetric
// only. "none" and the HMAC ones are refused whatever key matches, so a
// public key can never be used as an HMAC secret (algorithm confusion).
var algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// key is one public key of a set.
type key struct {
	pub any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	alg string // the JWK's "alg", "" when it names none
}

// keySet is a parsed JWKS, immutable once built.
type keySet struct {
	gen   uint64 // changes whenever the keys do (cache entries check it)
	byKID map[string][]key
	all   []key
}

// parseJWKS reads a JWKS (RFC 7517 §5). Keys it cannot use are skipped:
// symmetric ones, encryption ones ("use": "enc"), unknown types, RSA
// under 2048 bits; a private key counts for its public half. A set with
// no usable key is an error.
func parseJWKS(data []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("jwtauth: JWKS: %w", err)
	}
	ks := &keySet{byKID: map[string][]key{}}
	for _, raw := range doc.Keys {
		var jwk jose.JSONWebKey
		if json.Unmarshal(raw, &jwk) != nil || !usable(&jwk) {
			continue // one odd key must not hide the others
		}
		k := key{pub: jwk.Public().Key, alg: jwk.Algorithm}
		ks.all = append(ks.all, k)
		ks.byKID[jwk.KeyID] = append(ks.byKID[jwk.KeyID], k)
		if len(ks.all) == maxJWKSKeys {
			break
		}
	}
	if len(ks.all) == 0 {
		return nil, ErrNoUsableKey
	}
	return ks, nil
}

// usable reports whether a JWK can verify signatures here: a public
// signing key whose "alg", when it names one, is an accepted algorithm
// of its type.
func usable(k *jose.JSONWebKey) bool {
	if !k.Valid() || (k.Use != "" && k.Use != "sig") {
		return false
	}
	pub := k.Public().Key
	if k.Algorithm != "" && !fits(key{pub: pub, alg: k.Algorithm}, k.Algorithm) {
		return false
	}
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return pub.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return true
	}
	return false
}

// candidates are the keys that may have signed a token with header kid
// and alg: those with its kid (or every key when it names none) whose
// type fits alg. known is false when kid names no key of the set.
func (ks *keySet) candidates(kid, alg string) (out []key, known bool) {
	pool := ks.all
	if kid != "" {
		var ok bool
		if pool, ok = ks.byKID[kid]; !ok {
			return nil, false
		}
	}
	for _, k := range pool {
		if fits(k, alg) {
			out = append(out, k)
		}
	}
	return out, true
}

// fits reports whether k may verify a signature made with alg: the
// key's type and curve must be alg's, and its own "alg", when set, alg.
func fits(k key, alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		return curveOf[jose.SignatureAlgorithm(alg)] == pub.Curve
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA)
	}
	return false
}

var curveOf = map[jose.SignatureAlgorithm]elliptic.Curve{
	jose.ES256: elliptic.P256(), jose.ES384: elliptic.P384(), jose.ES512: elliptic.P521(),
}
