// Package descriptors loads protobuf descriptors from FileDescriptorSet
// files, serialized sets held in memory and gRPC server reflection into one
// *protoregistry.Files. It runs at startup only, so it may use grpc-go's
// client; that keeps grpc-go out of the codec (transcode). It imports
// neither engine nor upstream.
package descriptors
