//go:build !race

package transcode

const codecRace = false
