package filter

// ClaimsKey is the Request.Value key of a verified JWT's claims, a map[string]any.
type ClaimsKey struct{}
