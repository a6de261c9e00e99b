# Credentials for the benchmarks over TLS, sourced by compare.sh, connections.sh and memory-exports.sh.
#
# make_pki DIR LOG: a certificate authority and a server certificate for 127.0.0.1 (EC P-256, as a
# deployment would likely have) in DIR, in the layout all three servers and libnbd read; openssl's
# output goes to LOG. make_psk DIR: keys.psk (USERNAME:HEXKEY, as psktool writes it, user
# "bench") in DIR, a directory of its own, which qemu's credentials object reads too.
make_pki() {
  mkdir -p "$1"
  (
    cd "$1"
    printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment \
      extendedKeyUsage=serverAuth subjectAltName=DNS:localhost,IP:127.0.0.1 >server.ext
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench-ca \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout ca-key.pem -out ca-cert.pem
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
      -keyout server-key.pem -out server.csr
    openssl x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
      -extfile server.ext -out server-cert.pem
  ) >"$2" 2>&1 || { cat "$2" >&2; echo "openssl could not make the certificates" >&2; return 1; }
}
make_psk() {
  mkdir -p "$1"
  printf 'bench:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$1/keys.psk"
}
