package peers

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"

	"connectrpc.com/vanguard"
	"golang.org/x/net/http2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// ErrNoServices is returned when a descriptor set declares no service.
var ErrNoServices = errors.New("peers: descriptor set has no service")

// Vanguard is connectrpc vanguard configured from a descriptor set only
// (dynamic messages), forwarding gRPC to upstream through a reverse proxy.
func Vanguard(upstream string, descriptors []byte) (http.Handler, error) {
	files, err := loadFiles(descriptors)
	if err != nil {
		return nil, err
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: "http", Host: upstream}) },
		Transport: h2cTransport(),
	}
	types := dynamicpb.NewTypes(files)
	var services []*vanguard.Service
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			services = append(services, vanguard.NewServiceWithSchema(fd.Services().Get(i), proxy,
				vanguard.WithTargetProtocols(vanguard.ProtocolGRPC),
				vanguard.WithTargetCodecs(vanguard.CodecProto),
				vanguard.WithTypeResolver(types)))
		}
		return true
	})
	if len(services) == 0 {
		return nil, ErrNoServices
	}
	return vanguard.NewTranscoder(services)
}

func loadFiles(descriptors []byte) (*protoregistry.Files, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(descriptors, &set); err != nil {
		return nil, err
	}
	return protodesc.NewFiles(&set)
}

// h2cTransport speaks prior-knowledge HTTP/2 over plain TCP, as gRPC needs.
func h2cTransport() *http2.Transport {
	return &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}
