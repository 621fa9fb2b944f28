//go:build race

package canary

func init() { raceEnabled = true }
