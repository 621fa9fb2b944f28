//go:build straitpoison

package e2e

// buildTags: under the straitpoison tag the gateway overwrites reader
// buffers as it releases them, so a view kept past Release reads garbage.
const buildTags = "straitpoison"
