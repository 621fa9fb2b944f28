// Package e2e holds process-level tests: they build cmd/strait, run it as
// a separate process exactly as users do (the public contract of
// DESIGN.md), and drive it with real clients and real upstreams.
//
// The fidelity tests run the gateway in front of internal/echo (a grpc-go
// echo server for proto/strait/test/v1/echo.proto) and check every byte
// that comes back against what the client sent and the upstream saw:
//
//   - TestFidelity: random calls over every protocol at once (REST over
//     HTTP/1.1, a raw socket and h2c; native gRPC; gRPC-Web binary and
//     text over HTTP/1.1 and h2c), 30s; STRAIT_SOAK=5m (or -soak, or
//     make soak) for longer; STRAIT_SEED=N (or -seed N) replays the cases.
//   - TestHeaderLeak: the x-token leak of the "fidelity" issue.
//   - TestGRPCWebMatrix, TestGRPCMatrix: connect-go's gRPC-Web and gRPC
//     clients over every codec, compression and streaming kind.
//   - TestGatewayErrorsInRequestType, TestDeadlineExceeded,
//     TestUnservableContentType, TestBidiPingPongLarge: hand-made clients.
//   - TestNodeConnectClient: connect-node (e2e/node, `npm ci` there first).
//
// STRAIT_BIN=path runs the tests against a binary built elsewhere (an
// older commit, say); `go test -tags straitpoison ./e2e` builds strait
// with released reader buffers poisoned.
package e2e
