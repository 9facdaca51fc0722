#!/usr/bin/env bash
# Makes a private CA and a server certificate for Mosquitto's TLS listener.
#   ./make-certs.sh OUTDIR [SERVER_NAME_OR_IP ...]   (default names: localhost 127.0.0.1)
# Writes OUTDIR/ca.crt (give this to nodes and Home Assistant), ca.key (keep offline), server.crt, server.key.
set -euo pipefail
out=${1:?usage: make-certs.sh OUTDIR [NAME ...]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1)
mkdir -p "$out"
san=""
for n in "${names[@]}"; do
  if [[ "$n" =~ ^[0-9.]+$ ]]; then san+="IP:$n,"; else san+="DNS:$n,"; fi
done
san=${san%,}
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=pumpnode CA" \
  -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=${names[0]}" \
  -keyout "$out/server.key" -out "$out/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$san" > "$out/server.ext"
openssl x509 -req -in "$out/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days 825 -extfile "$out/server.ext" -out "$out/server.crt" 2>/dev/null
rm -f "$out/server.csr" "$out/server.ext" "$out/ca.srl"
chmod 600 "$out/ca.key" "$out/server.key"
echo "make-certs: $out/ca.crt, $out/server.crt, $out/server.key for ${names[*]}"
