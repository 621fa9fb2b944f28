#!/usr/bin/env bash
# Regenerates the committed descriptor sets and Go code from their .proto
# sources (needs protoc: apt-get install protobuf-compiler libprotobuf-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./internal/demo

# The echo service of the end-to-end tests: Go types and gRPC stubs in
# internal/echopb, its FileDescriptorSet (with imports) in e2e/testdata.
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
BIN="$PWD/bin"
mkdir -p "$BIN"
GOBIN="$BIN" go install google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION
GOBIN="$BIN" go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION
protoc -I proto -I /usr/include \
  --plugin=protoc-gen-go="$BIN/protoc-gen-go" --plugin=protoc-gen-go-grpc="$BIN/protoc-gen-go-grpc" \
  --go_out=. --go_opt=module=github.com/straitgw/strait \
  --go_opt=Mgoogle/api/annotations.proto=google.golang.org/genproto/googleapis/api/annotations \
  --go_opt=Mgoogle/api/http.proto=google.golang.org/genproto/googleapis/api/annotations \
  --go-grpc_out=. --go-grpc_opt=module=github.com/straitgw/strait \
  --go-grpc_opt=Mgoogle/api/annotations.proto=google.golang.org/genproto/googleapis/api/annotations \
  --go-grpc_opt=Mgoogle/api/http.proto=google.golang.org/genproto/googleapis/api/annotations \
  strait/test/v1/echo.proto
protoc -I proto -I /usr/include --include_imports \
  --descriptor_set_out=e2e/testdata/echo.pb strait/test/v1/echo.proto
