package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/filter/jwtauth"
	"github.com/straitgw/strait/transcode"
)

// JWTConfig is one accepted token issuer (the top-level list jwt) and
// the routes it guards (filter/jwtauth). A request on a guarded route
// must carry a token of one of the route's issuers; its "iss" picks the
// entry.
type JWTConfig struct {
	Issuer    string   `yaml:"issuer"`    // the exact "iss" of its tokens
	Audiences []string `yaml:"audiences"` // "aud" must hold one (none: not checked)
	// JWKSFile or JWKSURL (one of them) holds the issuer's public keys.
	// A file is read again when it changes (a reload); a URL is fetched
	// in the background every JWKSRefresh (default 5m), and again when a
	// token names an unknown kid, at most once per JWKSMinRefetch
	// (default 5s).
	JWKSFile       string        `yaml:"jwks_file"`
	JWKSURL        string        `yaml:"jwks_url"`
	JWKSRefresh    time.Duration `yaml:"jwks_refresh"`
	JWKSMinRefetch time.Duration `yaml:"jwks_min_refetch"`
	// Routes are the routes guarded (filter.Selector; none: every route).
	Routes []filter.Selector `yaml:"routes"`
	// From is where the token is: "authorization" (Bearer, the default)
	// or "header:NAME".
	From string `yaml:"from"`
	// ForwardClaims maps claim names to the metadata that carries them
	// upstream (default iss: x-jwt-iss, sub: x-jwt-sub; {} for none).
	ForwardClaims map[string]string `yaml:"forward_claims"`
	// DropToken keeps the token's header from traveling upstream.
	DropToken bool `yaml:"drop_token"`
	// ClockSkew is the leeway on exp, nbf and iat (default 30s).
	ClockSkew time.Duration `yaml:"clock_skew"`
}

// jwtDefaults fills each entry's zero settings.
func (c *Config) jwtDefaults() {
	for i := range c.JWT {
		j := &c.JWT[i]
		if j.JWKSURL != "" {
			setDefault(&j.JWKSRefresh, jwtauth.DefaultRefresh)
			setDefault(&j.JWKSMinRefetch, jwtauth.DefaultMinRefetch)
		}
		setDefault(&j.ClockSkew, jwtauth.DefaultLeeway)
		setDefault(&j.From, "authorization")
		if j.ForwardClaims == nil {
			j.ForwardClaims = maps.Clone(jwtauth.DefaultForward)
		}
	}
}

// resolveJWKSPaths makes relative JWKS files relative to dir.
func (c *Config) resolveJWKSPaths(dir string) {
	for i := range c.JWT {
		if p := &c.JWT[i].JWKSFile; *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
			c.src.retarget(fmt.Sprintf("jwt[%d].jwks_file", i), *p)
		}
	}
}

// JWKSPaths lists the JWKS files; a change reloads the configuration.
func (c *Config) JWKSPaths() []string {
	var ps []string
	for _, j := range c.JWT {
		if j.JWKSFile != "" {
			ps = append(ps, j.JWKSFile)
		}
	}
	return ps
}

// jwt checks the jwt entries, reading their JWKS files.
func (k *checker) jwt() {
	if len(k.c.JWT) > 64 {
		k.add("jwt", "", "%d entries; at most 64", len(k.c.JWT))
	}
	for i, j := range k.c.JWT {
		path := fmt.Sprintf("jwt[%d]", i)
		if j.Issuer == "" {
			k.add(path+".issuer", "", "missing: the exact \"iss\" of the tokens accepted")
		}
		for n, a := range j.Audiences {
			if a == "" {
				k.add(fmt.Sprintf("%s.audiences[%d]", path, n), a, "empty audience")
			}
		}
		k.jwks(path, j)
		if _, err := jwtauth.ParseFrom(j.From); err != nil {
			k.add(path+".from", j.From, "%q: %s", j.From, strings.TrimPrefix(err.Error(), "jwtauth: "))
		}
		k.forwardClaims(path, j.ForwardClaims)
		if j.ClockSkew < 0 || j.ClockSkew > 5*time.Minute {
			k.add(path+".clock_skew", j.ClockSkew.String(), "%v is not between 0 and 5m", j.ClockSkew)
		}
		k.selectors(path+".routes", j.Routes)
	}
}

// jwks checks an entry's key source.
func (k *checker) jwks(path string, j JWTConfig) {
	switch {
	case (j.JWKSFile == "") == (j.JWKSURL == ""):
		k.add(path, "", "give one of jwks_file and jwks_url")
	case j.JWKSFile != "":
		if _, err := readJWKS(j.JWKSFile); err != nil {
			k.add(path+".jwks_file", j.JWKSFile, "%v", err)
		}
		if j.JWKSRefresh != 0 || j.JWKSMinRefetch != 0 {
			k.add(path, "", "jwks_refresh and jwks_min_refetch go with jwks_url (a file is read again when it changes)")
		}
	default:
		u, err := url.Parse(j.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			k.add(path+".jwks_url", j.JWKSURL, "%q is not an http(s) URL", j.JWKSURL)
		}
		if r := j.JWKSRefresh; r != 0 && r < time.Second {
			k.add(path+".jwks_refresh", r.String(), "%v is too often; at least 1s", r)
		}
		if j.JWKSMinRefetch < 0 {
			k.add(path+".jwks_min_refetch", j.JWKSMinRefetch.String(), "must not be negative")
		}
	}
}

// forwardClaims checks the metadata names claims travel under: a client
// must not be able to pass for the gateway through them, and they must
// not clash with what the gateway or gRPC sets.
func (k *checker) forwardClaims(path string, fw map[string]string) {
	for _, claim := range slices.Sorted(maps.Keys(fw)) {
		h := strings.ToLower(fw[claim])
		p := path + ".forward_claims." + claim
		switch {
		case claim == "":
			k.add(p, "", "empty claim name")
		case !isHeaderName(h):
			k.add(p, fw[claim], "%q is not a header name", fw[claim])
		case !metadataOK(kindGRPC, h) || hopByHop(h) || strings.HasPrefix(h, "grpc-") ||
			strings.HasPrefix(h, "x-forwarded-") || h == "authorization" || h == strings.ToLower(k.c.Headers.RequestID):
			k.add(p, fw[claim], "%q is a header the gateway or gRPC sets; pick another name", fw[claim])
		}
	}
}

// selectors checks route selectors' form; compile checks that each
// selects a route.
func (k *checker) selectors(path string, sels []filter.Selector) {
	for i, s := range sels {
		v := strings.TrimSpace(string(s))
		if v == "" {
			k.add(fmt.Sprintf("%s[%d]", path, i), string(s), "empty selector (leave routes out to select every route)")
		} else if m, t, ok := strings.Cut(v, " "); ok && (m == "" || !strings.HasPrefix(strings.TrimSpace(t), "/")) {
			k.add(fmt.Sprintf("%s[%d]", path, i), string(s), "%q: an HTTP rule selector is \"METHOD /template\"", v)
		}
	}
}

func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// readJWKS reads and checks a JWKS file: a regular file (a FIFO or a
// device would block or never end), at most MaxJWKSBytes.
func readJWKS(name string) ([]byte, error) {
	st, err := os.Stat(name) // before Open: opening a FIFO blocks
	if err != nil {
		return nil, unwrapPath(err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, jwtauth.MaxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > jwtauth.MaxJWKSBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, jwtauth.MaxJWKSBytes)
	}
	if _, err := jwtauth.StaticKeys(name, data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// sourceID names a key source: entries and reloads with the same one
// share it (one fetcher per URL, its keys kept across a reload).
func sourceID(j JWTConfig, data []byte) string {
	if j.JWKSURL != "" {
		return fmt.Sprintf("url|%s|%v|%v", j.JWKSURL, j.JWKSRefresh, j.JWKSMinRefetch)
	}
	d := sha256.Sum256(data)
	return "file|" + j.JWKSFile + "|" + hex.EncodeToString(d[:])
}

// checkSelectors reports jwt and canary route selectors that select no
// route of router: a misspelt one would leave routes unguarded.
func (c *Config) checkSelectors(router *transcode.Router) error {
	var routes []filter.Route
	for _, rt := range router.All() {
		routes = append(routes, filterRoute(rt, string(rt.Service), rt.GRPCPath))
	}
	k := &checker{c: c}
	check := func(path string, sels []filter.Selector) {
		for i, s := range sels {
			if !slices.ContainsFunc(routes, s.Matches) {
				k.add(fmt.Sprintf("%s[%d]", path, i), string(s), "%q selects no route (see strait routes)", s)
			}
		}
	}
	for i, j := range c.JWT {
		check(fmt.Sprintf("jwt[%d].routes", i), j.Routes)
	}
	for i, cn := range c.Canary {
		check(fmt.Sprintf("canary[%d].routes", i), cn.Routes)
	}
	if len(k.problems) > 0 {
		return &ConfigError{Problems: k.problems}
	}
	return nil
}
