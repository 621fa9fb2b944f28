package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/straitgw/strait/transcode"
)

// ReflectDescriptors fetches, through gRPC server reflection, the
// descriptors of every service offered by each upstream that has
// Reflection set, as serialized FileDescriptorSets. It runs at startup
// only, so it uses grpc-go's client rather than strait's own.
func ReflectDescriptors(cfg Config) ([][]byte, error) {
	var sets [][]byte
	for _, u := range cfg.Upstreams {
		if !u.Reflection {
			continue
		}
		b, err := reflectUpstream(u, cfg.Timeouts.Connect)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: reflection: %w", u.Name, err)
		}
		sets = append(sets, b)
	}
	return sets, nil
}

// reflectUpstream asks the endpoints in turn until one answers.
func reflectUpstream(u UpstreamConfig, connect time.Duration) ([]byte, error) {
	err := errors.New("no endpoints")
	for _, ep := range u.Endpoints {
		var b []byte
		if b, err = reflectEndpoint(ep, connect); err == nil {
			return b, nil
		}
	}
	return nil, err
}

func reflectEndpoint(addr string, connect time.Duration) ([]byte, error) {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*connect+5*time.Second)
	defer cancel()
	files, err := transcode.LoadReflection(ctx, cc)
	if err != nil {
		return nil, err
	}
	var set descriptorpb.FileDescriptorSet
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
		return true
	})
	return proto.Marshal(&set)
}
