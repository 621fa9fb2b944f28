//go:build race

package jwtauth

func init() { raceEnabled = true }
