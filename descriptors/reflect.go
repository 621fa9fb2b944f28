package descriptors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	rpbalpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ErrReflection reports an upstream whose reflection service failed or
// answered with an error.
var ErrReflection = errors.New("descriptors: server reflection")

// Reflect fetches the descriptors of services (all services the upstream
// lists when none are named, except reflection itself) and of every file
// they import, through gRPC server reflection: v1, or v1alpha when the
// upstream only has that. It opens one stream (a second to fall back to
// v1alpha). Imports the upstream does not serve but the Go registry has
// (the well-known types) are left out of the set.
func Reflect(ctx context.Context, conn grpc.ClientConnInterface, services ...string) (*descriptorpb.FileDescriptorSet, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x, err := openReflection(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer x.close()
	if len(services) == 0 {
		if services, err = x.listServices(); err != nil {
			return nil, err
		}
	}
	fetched, order, err := x.fetchFiles(services)
	if err != nil {
		return nil, err
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, name := range order {
		set.File = append(set.File, fetched[name])
	}
	return set, nil
}

// fetchFiles gets the files declaring services and, transitively, the
// files they import, in the order they arrived.
func (x *reflectionStream) fetchFiles(services []string) (map[string]*descriptorpb.FileDescriptorProto, []string, error) {
	got := map[string]*descriptorpb.FileDescriptorProto{}
	var order []string
	add := func(files [][]byte) error {
		for _, raw := range files {
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(raw, fd); err != nil {
				return fmt.Errorf("%w: bad file descriptor: %v", ErrReflection, err)
			}
			if _, ok := got[fd.GetName()]; !ok {
				got[fd.GetName()] = fd
				order = append(order, fd.GetName())
			}
		}
		return nil
	}
	for _, svc := range services {
		files, err := x.files(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc}})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: service %s: %v", ErrReflection, svc, err)
		}
		if err := add(files); err != nil {
			return nil, nil, err
		}
	}
	for i := 0; i < len(order); i++ { // order grows as imports arrive
		for _, dep := range got[order[i]].GetDependency() {
			if _, ok := got[dep]; ok {
				continue
			}
			files, err := x.files(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: dep}})
			if err != nil {
				if _, gerr := protoregistry.GlobalFiles.FindFileByPath(dep); gerr == nil {
					continue // a well-known file the upstream does not serve
				}
				return nil, nil, fmt.Errorf("%w: file %s: %v", ErrReflection, dep, err)
			}
			if err := add(files); err != nil {
				return nil, nil, err
			}
		}
	}
	return got, order, nil
}

// reflectionStream is one reflection stream of either version, spoken in
// v1 messages (v1alpha's are the same on the wire).
type reflectionStream struct {
	send  func(*rpb.ServerReflectionRequest) error
	recv  func() (*rpb.ServerReflectionResponse, error)
	close func()
}

func openReflection(ctx context.Context, conn grpc.ClientConnInterface) (*reflectionStream, error) {
	v1, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err == nil {
		x := &reflectionStream{send: v1.Send, recv: v1.Recv, close: func() { _ = v1.CloseSend() }}
		if err = x.probe(); err == nil {
			return x, nil
		}
	}
	if status.Code(err) != codes.Unimplemented {
		return nil, fmt.Errorf("%w: %v", ErrReflection, err)
	}
	alpha, err := rpbalpha.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReflection, err)
	}
	x := &reflectionStream{
		send: func(r *rpb.ServerReflectionRequest) error {
			var a rpbalpha.ServerReflectionRequest
			if err := convertMessage(r, &a); err != nil {
				return err
			}
			return alpha.Send(&a)
		},
		recv: func() (*rpb.ServerReflectionResponse, error) {
			a, err := alpha.Recv()
			if err != nil {
				return nil, err
			}
			var r rpb.ServerReflectionResponse
			return &r, convertMessage(a, &r)
		},
		close: func() { _ = alpha.CloseSend() },
	}
	if err := x.probe(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReflection, err)
	}
	return x, nil
}

func convertMessage(from, to proto.Message) error {
	b, err := proto.Marshal(from)
	if err != nil {
		return err
	}
	return proto.Unmarshal(b, to)
}

// probe lists services once: an upstream without this version of the
// service answers Unimplemented here.
func (x *reflectionStream) probe() error {
	_, err := x.listServices()
	return err
}

func (x *reflectionStream) exchange(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
	if err := x.send(req); err != nil && err != io.EOF {
		return nil, err
	} // on io.EOF the stream ended: Recv returns the real status
	resp, err := x.recv()
	if err != nil {
		return nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage())
	}
	return resp, nil
}

func (x *reflectionStream) listServices() ([]string, error) {
	resp, err := x.exchange(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		if !strings.HasPrefix(s.GetName(), "grpc.reflection.") {
			names = append(names, s.GetName())
		}
	}
	return names, nil
}

func (x *reflectionStream) files(req *rpb.ServerReflectionRequest) ([][]byte, error) {
	resp, err := x.exchange(req)
	if err != nil {
		return nil, err
	}
	return resp.GetFileDescriptorResponse().GetFileDescriptorProto(), nil
}
