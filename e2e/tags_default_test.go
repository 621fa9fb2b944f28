//go:build !straitpoison

package e2e

// buildTags are the tags the strait binary under test is built with:
// none by default; `go test -tags straitpoison ./e2e` builds it with
// straitpoison (tags_poison_test.go).
const buildTags = ""
