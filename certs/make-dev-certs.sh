#!/usr/bin/env bash
# Makes a development CA and a server certificate signed by it, for running izypop3 with
# real certificate checking on a test machine:
#   certs/make-dev-certs.sh OUTDIR [HOSTNAME]
# OUTDIR gets ca.pem (give it to clients: curl --cacert, mpop tls_trust_file), server.pem
# (chain: server then CA) and server.key (for tls.cert / tls.key). Never use these in
# production: the CA key sits next to them.
set -euo pipefail
out=${1:?usage: make-dev-certs.sh OUTDIR [HOSTNAME]}
host=${2:-localhost}
mkdir -p "$out"
cd "$out"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/O=izypop3 development CA/CN=izypop3 dev CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/O=izypop3 development/CN=$host" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n' "$host" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
  -extfile server.ext -out server.crt 2>/dev/null
cat server.crt ca.pem > server.pem
rm -f server.csr server.ext server.crt ca.srl
chmod 600 server.key ca.key
echo "made $out/ca.pem, $out/server.pem, $out/server.key for $host"
echo "SHA-256 fingerprint: $(openssl x509 -in server.pem -noout -fingerprint -sha256 | cut -d= -f2)"
