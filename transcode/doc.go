// Package transcode compiles protobuf descriptors into immutable plans and
// uses them to transcode JSON to protobuf wire bytes and back (the proto3
// JSON mapping), to route HTTP requests by google.api.http rules, and to map
// gRPC statuses to HTTP. It must not import strait's engine or upstream,
// nor depend on grpc-go or net/http (loading descriptors by server
// reflection is the descriptors package's job).
package transcode
