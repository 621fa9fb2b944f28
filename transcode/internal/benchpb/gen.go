// Package benchpb holds generated Go types for the transcode codec
// benchmarks, to compare with protojson on generated messages.
package benchpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --include_imports --descriptor_set_out=bench.pb bench.proto
