package filter

// The engine's requests can do more than Request says; a filter asks for
// these through the functions below, so a Request of another kind (a test
// fake, an embedding program's) still works without them.

// RouteOf returns the route r matched, for a filter whose rules select
// routes themselves; ok is false when r cannot tell.
func RouteOf(r Request) (rt Route, ok bool) {
	if rr, ok := r.(interface{ Route() Route }); ok {
		return rr.Route(), true
	}
	return Route{}, false
}

// DropMetadata keeps the client's header name (lower case) from traveling
// upstream, when r can: a filter drops a credential it consumed, or a
// header it sets itself that a client must not forge. Fields added with
// SetMetadata stay. It reports whether r could.
func DropMetadata(r Request, name string) bool {
	if d, ok := r.(interface{ DropMetadata(name string) }); ok {
		d.DropMetadata(name)
		return true
	}
	return false
}
