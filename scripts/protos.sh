#!/usr/bin/env bash
# Regenerates the committed descriptor sets from their .proto sources
# (needs protoc: apt-get install protobuf-compiler libprotobuf-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
go generate ./internal/demo
