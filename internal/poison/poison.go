// Package poison is a test hook for buffer ownership. Built with the
// straitpoison tag, Wrap returns a reader that overwrites every byte Next
// handed out the moment the caller releases it, so a view kept past
// Release (an unsafe.String in a table, a slice in a queue) reads garbage
// at once instead of, rarely and under load, another request's bytes.
// Without the tag Wrap returns its argument and costs nothing.
//
// It imports nothing of strait's.
package poison

// Reader is the zero-copy input strait's codecs read from; netpoll's
// Reader satisfies it.
type Reader interface {
	Len() int
	Peek(n int) ([]byte, error)
	Next(n int) ([]byte, error)
	Skip(n int) error
	Release() error
}

// Byte is what released bytes are overwritten with.
const Byte = 0xA5
