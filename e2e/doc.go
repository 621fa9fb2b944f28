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
//   - TestBrowser: headless Chromium (Debian's chromium, driven by
//     playwright-core) on a page from another origin: CORS preflights,
//     REST with fetch, gRPC-Web with connect-web, a refused origin
//     (e2e/browser, `npm ci` there first; browser_test.go).
//
// The lifecycle tests run the gateway in front of two echo upstreams that
// are processes of their own (internal/echo/echoserver prints the x-req-id
// of every call it receives, so a test knows which calls a backend saw),
// under continuous REST and gRPC load with varied headers (lifeload_test.go:
// every call's result, latency and phase; STRAIT_SEED=N replays the cases):
//
//   - TestBackendKilled: one endpoint SIGKILLed mid-load, then restarted on
//     its port: only calls it saw may fail, no call waits for it while it
//     is down, and it serves again without a restart of strait.
//   - TestBackendHung: a blackhole endpoint (accepts, never speaks) from
//     the start and in place of a killed backend, and a backend stopped
//     with SIGSTOP for 4s: no call fails, and new calls stop going to it.
//   - TestBackendGoAway: each endpoint in turn stops gracefully (GOAWAY)
//     and is restarted: no call fails.
//   - After each: goroutines, upstream streams and client connections
//     return to the idle baseline; RSS stays within 128 MB of it.
//   - TestStalledReaders: four h2 connections with SETTINGS_INITIAL_WINDOW_SIZE
//     0 hold 100 streams each asking ~1 MiB for 15s; other clients must be
//     answered within 1s and the gateway's RSS stay under 200 MB.
//
// STRAIT_BIN=path runs the tests against a binary built elsewhere (an
// older commit, say); `go test -tags straitpoison ./e2e` builds strait
// with released reader buffers poisoned.
package e2e
