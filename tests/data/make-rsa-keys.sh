#!/bin/sh
# Regenerates the RSA test keys (PKCS#8 DER, unencrypted). ring and rcgen
# cannot generate RSA keys, so the RSA signers, CAs and TSAs of
# tests/verify_rsa.rs load these. They protect nothing: test fixtures only.
set -eu
cd "$(dirname "$0")"
for bits in 2048 3072 4096; do
  openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" |
    openssl pkcs8 -topk8 -nocrypt -outform DER -out "rsa-$bits.pk8.der"
done
