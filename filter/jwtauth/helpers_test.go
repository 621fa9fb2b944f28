package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/filter"
)

// signer is a key a test signs tokens with.
type signer struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// newSigner makes a key of alg's type (RSA keys are made once per run:
// generating them is slow).
func newSigner(t testing.TB, kid string, alg jose.SignatureAlgorithm) signer {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		if kid == "rsa-2" {
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
			break
		}
		rsaOnce.Do(func() { rsaKey, err = rsa.GenerateKey(rand.Reader, 2048) })
		priv = rsaKey
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil || priv == nil {
		t.Fatalf("key for %s: %v", alg, err)
	}
	return signer{kid: kid, alg: alg, priv: priv}
}

// jwk is the public JWK of s.
func (s signer) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: s.priv.Public(), KeyID: s.kid, Use: "sig"}
}

// jwks serializes the public keys of ss as a JWKS.
func jwks(t testing.TB, ss ...signer) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, s := range ss {
		set.Keys = append(set.Keys, s.jwk())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign makes a compact JWS of claims with s (kid in the header unless
// s.kid is empty).
func (s signer) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if s.kid != "" {
		opts = opts.WithHeader("kid", s.kid)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.priv}, opts.WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
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

// unsigned makes a token with alg none (RFC 7519 §6).
func unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "."
}

// claimsAt are valid claims for issuer iss and audience aud at now.
func claimsAt(iss, aud string, now time.Time) map[string]any {
	return map[string]any{"iss": iss, "aud": aud, "sub": "user-1",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// fakeRequest is a filter.Request that records what filters do to it.
type fakeRequest struct {
	route    filter.Route
	headers  map[string]string
	meta     []filter.Field
	dropped  []string
	values   map[any]any
	upstream string
}

func newRequest(route filter.Route, headers ...string) *fakeRequest {
	r := &fakeRequest{route: route, headers: map[string]string{}, values: map[any]any{}}
	for i := 0; i+1 < len(headers); i += 2 {
		r.headers[headers[i]] = headers[i+1]
	}
	return r
}

func bearer(tok string) *fakeRequest {
	return newRequest(filter.Route{Service: "p.S", Method: "M"}, "authorization", "Bearer "+tok)
}

func (r *fakeRequest) Protocol() filter.Protocol { return filter.ProtocolREST }
func (r *fakeRequest) Method() string            { return "GET" }
func (r *fakeRequest) Path() string              { return "/" }
func (r *fakeRequest) Service() string           { return r.route.Service }
func (r *fakeRequest) RPC() string               { return "/" + r.route.Service + "/" + r.route.Method }
func (r *fakeRequest) ClientIP() string          { return "127.0.0.1" }
func (r *fakeRequest) RequestID() string         { return "id" }
func (r *fakeRequest) Header(name string) string { return r.headers[name] }
func (r *fakeRequest) Identity() string          { return "" }
func (r *fakeRequest) SetMetadata(name, value string) {
	r.meta = append(r.meta, filter.Field{Name: name, Value: value})
}
func (r *fakeRequest) SetUpstream(name string)  { r.upstream = name }
func (r *fakeRequest) Value(key any) any        { return r.values[key] }
func (r *fakeRequest) SetValue(key, value any)  { r.values[key] = value }
func (r *fakeRequest) Route() filter.Route      { return r.route }
func (r *fakeRequest) DropMetadata(name string) { r.dropped = append(r.dropped, name) }

// staticFilter is a filter of one rule over a JWKS of ss.
func staticFilter(t testing.TB, rule Rule, ss ...signer) *Filter {
	t.Helper()
	k, err := StaticKeys("test", jwks(t, ss...))
	if err != nil {
		t.Fatal(err)
	}
	rule.Keys = k
	f, err := New([]Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// run calls OnRequest and, for a suspension, waits for resume.
func run(t testing.TB, f *Filter, r filter.Request) filter.Result {
	t.Helper()
	ch := make(chan filter.Result, 1)
	res := f.OnRequest(r, func(res filter.Result) { ch <- res })
	if res.Verdict != filter.VerdictSuspend {
		return res
	}
	select {
	case res = <-ch:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("suspended request never resumed")
	}
	return res
}

// describe renders a result for comparisons: "continue", or the code,
// message and headers of a rejection.
func describe(res filter.Result) string {
	switch res.Verdict {
	case filter.VerdictContinue:
		return "continue"
	case filter.VerdictSuspend:
		return "suspend"
	}
	var b strings.Builder
	b.WriteString(res.Status.Code.String() + ": " + res.Status.Message)
	for _, h := range res.Headers {
		b.WriteString(" | " + h.Name + ": " + h.Value)
	}
	return b.String()
}
