//go:build race

package ratelimit

func init() { raceEnabled = true }
