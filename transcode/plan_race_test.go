//go:build race

package transcode

// codecRace: sync.Pool drops items at random under the race detector.
const codecRace = true
