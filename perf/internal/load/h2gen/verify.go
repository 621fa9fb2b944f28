package h2gen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrBody is wrapped by every verification failure.
var ErrBody = errors.New("h2gen: response body differs from the expected message")

// SplitFrames splits a gRPC or gRPC-Web body (5-byte prefix: flags, length)
// into its frames' flags and payloads, which alias b.
func SplitFrames(b []byte) (flags []byte, msgs [][]byte, err error) {
	for len(b) > 0 {
		if len(b) < 5 {
			return nil, nil, fmt.Errorf("h2gen: short frame header (%d bytes)", len(b))
		}
		n := binary.BigEndian.Uint32(b[1:5])
		if uint64(len(b)-5) < uint64(n) {
			return nil, nil, fmt.Errorf("h2gen: frame of %d bytes, %d left", n, len(b)-5)
		}
		flags = append(flags, b[0])
		msgs = append(msgs, b[5:5+n])
		b = b[5+n:]
	}
	return flags, msgs, nil
}

// webTrailer finds grpc-status (and grpc-message) in the trailer frame
// (flag 0x80) that ends a gRPC-Web body.
func webTrailer(body []byte) (status, msg string, err error) {
	flags, frames, err := SplitFrames(body)
	if err != nil {
		return "", "", err
	}
	if len(flags) == 0 || flags[len(flags)-1]&0x80 == 0 {
		return "", "", errors.New("h2gen: no trailer frame")
	}
	for line := range strings.SplitSeq(string(frames[len(frames)-1]), "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "grpc-status":
			status = strings.TrimSpace(v)
		case "grpc-message":
			msg = strings.TrimSpace(v)
		}
	}
	if status == "" {
		return "", "", errors.New("h2gen: trailer frame without grpc-status")
	}
	return status, msg, nil
}

// Verifier returns a check that a response body carries exactly the
// messages of type mt in want (wire bytes), compared with proto.Equal: one
// protojson object for ModeREST; gRPC frames for ModeGRPC; gRPC-Web data
// frames, then the trailer frame, for ModeGRPCWeb.
func Verifier(mode Mode, mt protoreflect.MessageType, want [][]byte) (func([]byte) error, error) {
	var msgs []proto.Message
	for _, w := range want {
		m := mt.New().Interface()
		if err := proto.Unmarshal(w, m); err != nil {
			return nil, fmt.Errorf("h2gen: expected message: %w", err)
		}
		msgs = append(msgs, m)
	}
	equal := func(i int, b []byte) error {
		if bytes.Equal(b, want[i]) {
			return nil
		}
		got := mt.New().Interface()
		if err := proto.Unmarshal(b, got); err != nil {
			return fmt.Errorf("%w: message %d: %v", ErrBody, i, err)
		}
		if !proto.Equal(got, msgs[i]) {
			return fmt.Errorf("%w: message %d", ErrBody, i)
		}
		return nil
	}
	if mode == ModeREST {
		if len(msgs) != 1 {
			return nil, errors.New("h2gen: REST verifies one message")
		}
		return func(b []byte) error {
			got := mt.New().Interface()
			if err := protojson.Unmarshal(b, got); err != nil {
				return fmt.Errorf("%w: %v", ErrBody, err)
			}
			if !proto.Equal(got, msgs[0]) {
				return fmt.Errorf("%w: %.100s", ErrBody, b)
			}
			return nil
		}, nil
	}
	return func(b []byte) error {
		flags, frames, err := SplitFrames(b)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBody, err)
		}
		if mode == ModeGRPCWeb && len(flags) > 0 && flags[len(flags)-1]&0x80 != 0 {
			flags, frames = flags[:len(flags)-1], frames[:len(frames)-1]
		}
		if len(frames) != len(want) {
			return fmt.Errorf("%w: %d messages, want %d", ErrBody, len(frames), len(want))
		}
		for i, f := range frames {
			if flags[i] != 0 {
				return fmt.Errorf("%w: message %d has flags %#x", ErrBody, i, flags[i])
			}
			if err := equal(i, f); err != nil {
				return err
			}
		}
		return nil
	}, nil
}
