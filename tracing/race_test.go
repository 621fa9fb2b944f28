//go:build race

package tracing

func init() { raceEnabled = true }
