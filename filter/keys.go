package filter

// ClaimsKey is the Request.Value key under which the authentication
// filter stores a verified JWT's claims, as a map[string]any in the
// shapes encoding/json decodes to (string, float64, bool, []any,
// map[string]any). Filters that run after it read them: a rate limit
// keyed by "claim:NAME", say. The map is stored once the token is
// verified and is never changed afterwards, so readers need no lock.
type ClaimsKey struct{}
