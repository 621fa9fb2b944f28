#!/usr/bin/env bash
# Regenerates examples/tls/: a throwaway CA and the certificates that
# examples/strait-tls.yaml names, for localhost only. Never use these keys
# for anything but trying strait on your own machine.
set -euo pipefail
cd "$(dirname "$0")/../examples/tls"
days=3650
ec() { openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$1"; }
ec ca.key
openssl req -x509 -new -key ca.key -days $days -subj "/O=strait example/CN=strait example CA" -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
leaf() { # name subject extensions...
  local name=$1 subj=$2; shift 2
  ec "$name.key"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  printf '%s\n' "$@" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days $days -extfile "$name.ext" -out "$name.crt"
  rm "$name.csr" "$name.ext"
}
leaf gateway "/O=strait example/CN=localhost" \
  "subjectAltName=DNS:localhost,IP:127.0.0.1,URI:spiffe://example.test/strait" "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature"
leaf api "/O=strait example/CN=api.localhost" \
  "subjectAltName=DNS:api.localhost" "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature"
leaf client "/O=strait example/CN=example client" \
  "subjectAltName=URI:spiffe://example.test/client,DNS:client.localhost" "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature"
rm -f ca.srl ca.key # the CA signs nothing more: regenerate all to change any
