package ratelimit

// raceEnabled is set by race_test.go.
var raceEnabled bool
