package echo

import (
	"encoding/binary"
	"errors"
	"io"
)

// Payload is the deterministic payload of generated stream message index:
// size bytes of splitmix64 output seeded with seed and index.
func Payload(seed uint64, index, size int) []byte {
	b := make([]byte, size+7)
	x := seed ^ uint64(index)*0x9e3779b97f4a7c15
	for i := 0; i < size; i += 8 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(b[i:], z^z>>31)
	}
	return b[:size:size]
}

// Details is the BytesValue a failed call attaches when asked: 16 bytes
// from seed.
func Details(seed uint64) []byte { return Payload(^seed, -1, 16) }

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
