package demo

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

type unaryFunc func(s *store, ctx context.Context, req protoreflect.Message) (proto.Message, error)

type streamFunc func(s *store, req protoreflect.Message, stream grpc.ServerStream) error

// The implementations by method name; serviceDesc pairs them with the
// descriptor's methods.
var (
	unaryMethods = map[protoreflect.Name]unaryFunc{
		"ListShelves": (*store).listShelves,
		"CreateShelf": (*store).createShelf,
		"GetShelf":    (*store).getShelf,
		"DeleteShelf": (*store).deleteShelf,
		"ListBooks":   (*store).listBooks,
		"CreateBook":  (*store).createBook,
		"GetBook":     (*store).getBook,
		"UpdateBook":  (*store).updateBook,
		"DeleteBook":  (*store).deleteBook,
		"PublishBook": (*store).publishBook,
	}
	streamMethods = map[protoreflect.Name]streamFunc{
		"WatchBooks": (*store).watchBooks,
	}
)

// NewServer returns a grpc-go server with the Bookstore service (a fresh,
// seeded in-memory store), grpc.health.v1 and server reflection registered.
// The caller calls Serve on a listener and Stop or GracefulStop when done.
func NewServer(opts ...grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(opts...)
	s.RegisterService(serviceDesc(), newStore())
	hs := health.NewServer()
	hs.SetServingStatus(ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	reflection.RegisterV1(reflectionTarget{s})
	return s
}

// serviceDesc builds the grpc-go service description from the descriptor,
// so no generated code is needed.
func serviceDesc() *grpc.ServiceDesc {
	sd := service()
	desc := &grpc.ServiceDesc{
		ServiceName: ServiceName,
		HandlerType: (*any)(nil), // the store needs no Go interface
		Metadata:    sd.ParentFile().Path(),
	}
	for i := range sd.Methods().Len() {
		md := sd.Methods().Get(i)
		if md.IsStreamingServer() {
			fn := streamMethods[md.Name()]
			if fn == nil || md.IsStreamingClient() {
				panic(fmt.Sprintf("demo: no implementation of %s", md.FullName()))
			}
			desc.Streams = append(desc.Streams, grpc.StreamDesc{
				StreamName:    string(md.Name()),
				Handler:       streamHandler(md, fn),
				ServerStreams: true,
			})
			continue
		}
		fn := unaryMethods[md.Name()]
		if fn == nil || md.IsStreamingClient() {
			panic(fmt.Sprintf("demo: no implementation of %s", md.FullName()))
		}
		desc.Methods = append(desc.Methods, grpc.MethodDesc{MethodName: string(md.Name()), Handler: unaryHandler(md, fn)})
	}
	return desc
}

// unaryHandler decodes the request into a dynamic message of the method's
// input type and runs fn through the server's interceptor, if any.
func unaryHandler(md protoreflect.MethodDescriptor, fn unaryFunc) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	info := &grpc.UnaryServerInfo{FullMethod: fmt.Sprintf("/%s/%s", ServiceName, md.Name())}
	return func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		in := dynamicpb.NewMessage(md.Input())
		if err := dec(in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, req any) (any, error) {
			return fn(srv.(*store), ctx, req.(*dynamicpb.Message))
		}
		if icpt == nil {
			return h(ctx, in)
		}
		i := *info
		i.Server = srv
		return icpt(ctx, in, &i, h)
	}
}

// streamHandler receives the one request of a server-streaming method.
func streamHandler(md protoreflect.MethodDescriptor, fn streamFunc) grpc.StreamHandler {
	return func(srv any, stream grpc.ServerStream) error {
		in := dynamicpb.NewMessage(md.Input())
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		return fn(srv.(*store), in, stream)
	}
}

// reflectionTarget registers reflection with resolvers that know the
// embedded files, which are not in protoregistry.GlobalFiles.
type reflectionTarget struct{ *grpc.Server }

// RegisterService is called by reflection.RegisterV1 with the default
// reflection server; swap it for one using our resolvers.
func (t reflectionTarget) RegisterService(sd *grpc.ServiceDesc, _ any) {
	t.Server.RegisterService(sd, reflection.NewServerV1(reflection.ServerOptions{
		Services:           t.Server,
		DescriptorResolver: resolver{},
		ExtensionResolver:  extensionTypes(),
	}))
}

// resolver looks in the embedded files first, then the global registry
// (grpc.health.v1 and the reflection protos live there).
type resolver struct{}

func (resolver) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := files().FindFileByPath(path); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

func (resolver) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := files().FindDescriptorByName(name); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(name)
}

// extensionTypes registers the embedded files' extensions (google.api.http).
func extensionTypes() *protoregistry.Types {
	var types protoregistry.Types
	files().RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Extensions().Len() {
			// Errors mean a duplicate, which protodesc.NewFiles already rejects.
			_ = types.RegisterExtension(dynamicpb.NewExtensionType(fd.Extensions().Get(i)))
		}
		return true
	})
	return &types
}
