// Package demo is the bookstore example service behind `strait demo`: a
// plain grpc-go server with an in-memory store, built from the embedded
// descriptor set without generated Go code (dynamicpb). It stands in for a
// real upstream, so it must not import strait's engine, transcode, h2 or
// upstream packages.
package demo

import (
	_ "embed"
	"fmt"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

//go:generate protoc -I ../../proto -I /usr/include --include_imports --descriptor_set_out=bookstore.pb bookstore/v1/bookstore.proto

//go:embed bookstore.pb
var descriptorSet []byte

// ServiceName is the fully qualified name of the demo service.
const ServiceName = "bookstore.v1.Bookstore"

// Descriptors returns a copy of the serialized FileDescriptorSet of the
// bookstore service and its imports (google.api, well-known types).
func Descriptors() []byte { return slices.Clone(descriptorSet) }

// files parses the embedded set once; a failure is a build defect.
var files = sync.OnceValue(func() *protoregistry.Files {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(descriptorSet, &set); err != nil {
		panic(fmt.Sprintf("demo: embedded descriptors: %v", err))
	}
	f, err := protodesc.NewFiles(&set)
	if err != nil {
		panic(fmt.Sprintf("demo: embedded descriptors: %v", err))
	}
	return f
})

// Files returns the registry built from the embedded descriptor set.
func Files() *protoregistry.Files { return files() }

// service returns the Bookstore service descriptor.
func service() protoreflect.ServiceDescriptor {
	d, err := files().FindDescriptorByName(ServiceName)
	if err != nil {
		panic(fmt.Sprintf("demo: %v", err))
	}
	return d.(protoreflect.ServiceDescriptor)
}
