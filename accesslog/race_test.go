//go:build race

package accesslog

func init() { raceEnabled = true }
