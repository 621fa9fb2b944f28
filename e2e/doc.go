// Package e2e holds process-level tests: they build cmd/strait, run it as
// a separate process exactly as users do (the public contract of
// DESIGN.md), and drive it with real clients and real upstreams.
package e2e
