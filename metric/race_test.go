//go:build race

package metric

func init() { raceEnabled = true }
