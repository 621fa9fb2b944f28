# strait: the two commands a new machine needs are `make demo` and `make test`.
GO      ?= go
BIN     := $(CURDIR)/bin
H2SPEC  := $(BIN)/h2spec
FUZZTIME ?= 10s
export GOFLAGS := -buildvcs=false

.PHONY: build test vet cross tidy unit poison allocs h2spec soak browser demo bench bench-tls profile fuzz tools protos clean

build:
	$(GO) build -o $(BIN)/strait ./cmd/strait

# test: go.mod tidy, vet (here and cross-built), the race-enabled unit and
# end-to-end tests, then the external suites.
test: tidy tools vet cross unit poison allocs h2spec

vet:
	$(GO) vet ./...

# cross builds and vets every package for the other platforms strait supports.
CROSS := darwin/amd64 darwin/arm64 linux/arm64
cross:
	@set -e; for p in $(CROSS); do \
		echo "GOOS=$${p%/*} GOARCH=$${p#*/} go build + vet ./..."; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build ./...; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./...; \
	done

# tidy fails if go mod tidy would change go.mod or go.sum (both modules).
tidy:
	$(GO) mod tidy -diff
	cd perf && $(GO) mod tidy -diff

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# poison runs the engine and end-to-end tests again with released reader
# buffers overwritten at once (internal/poison): a view kept past its
# buffer's release reads garbage and fails the byte checks.
poison:
	$(GO) test -race -count=1 -timeout 20m -tags straitpoison ./internal/poison ./engine/... ./e2e/...

GRPC_VERSION := v1.85.0

# tools installs the third-party suites the tests run (idempotent).
# allocs runs the zero-allocation pins without -race (the race detector
# allocates on its own, so those tests skip under it).
allocs:
	$(GO) test -count=1 -run 'ZeroAlloc' ./...

tools: $(H2SPEC) $(BIN)/interop-server $(BIN)/interop-client

$(H2SPEC):
	GOBIN=$(BIN) $(GO) install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible

$(BIN)/interop-%:
	mkdir -p $(BIN)/tmp-$*
	GOBIN=$(BIN)/tmp-$* $(GO) install google.golang.org/grpc/interop/$*@$(GRPC_VERSION)
	mv $(BIN)/tmp-$*/$* $@ && rmdir $(BIN)/tmp-$*

# h2spec runs the HTTP/2 conformance suite against a real `strait serve`.
h2spec: build $(H2SPEC)
	./scripts/h2spec.sh $(BIN)/strait $(H2SPEC)

# soak runs the e2e fidelity test for SOAK (default 5m); STRAIT_SEED=N replays.
SOAK ?= 5m
soak:
	STRAIT_SOAK=$(SOAK) $(GO) test -race -count=1 -v -timeout 0 -run 'TestFidelity$$' ./e2e

# browser runs the headless Chromium test alone (unit runs it too); it
# needs Debian's chromium and `npm ci` in e2e/browser, as .ci/run does.
browser:
	$(GO) test -count=1 -v -run 'TestBrowser' ./e2e

demo:
	$(GO) run ./cmd/strait demo

bench:
	cd perf && $(GO) run ./cmd/bench $(if $(QUICK),-quick,)

# bench-tls: TLS against cleartext, strait and grpc-gateway behind Go's
# TLS (CPU per request, handshakes, memory per idle connection);
# results/tls.md.
bench-tls:
	cd perf && $(GO) run ./cmd/tlsbench $(if $(QUICK),-quick,)

profile:
	cd perf && $(GO) run ./cmd/bench -profile

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

protos:
	./scripts/protos.sh

clean:
	rm -rf $(BIN)
