package echo

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// jsonCodec is gRPC's "json" content subtype (application/grpc+json):
// messages in the proto3 JSON mapping. Registering it makes grpc-go serve
// and send +json; connect-go's and the gateway's JSON must agree with it.
type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("echo json codec: %T is not a proto.Message", v)
	}
	return protojson.Marshal(m)
}

func (jsonCodec) Unmarshal(b []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("echo json codec: %T is not a proto.Message", v)
	}
	return protojson.Unmarshal(b, m)
}

func init() { encoding.RegisterCodec(jsonCodec{}) }
