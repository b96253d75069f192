#!/bin/sh
# Regenerates the RSASSA-PSS known-answer vectors of src/cms/pss/tests.rs:
# OpenSSL signs message.txt with the fixture keys of tests/data (and a
# throwaway 2049-bit key, whose encoded message is one octet shorter than
# the modulus, RFC 8017 §8.1.2 step 2c); only the public keys (SPKI DER) and
# the signatures are kept. OpenSSL checks each signature as it is made.
set -eu
cd "$(dirname "$0")"
# OpenSSL 3 rounds odd key sizes down: the 2049-bit key is a 1025-bit and a
# 1024-bit prime joined by Python's cryptography package.
python3 - <<'PY'
import math, subprocess
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
def prime(bits):
    return int(subprocess.check_output(["openssl", "prime", "-generate", "-bits", str(bits)]))
e = 65537
while True:
    p, q = prime(1025), prime(1024)
    if (p * q).bit_length() == 2049 and math.gcd(e, (p - 1) * (q - 1)) == 1:
        break
d = pow(e, -1, (p - 1) * (q - 1))
key = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                            rsa.RSAPublicNumbers(e, p * q)).private_key()
open("rsa-2049.pem", "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()))
PY
sign() { # key hash salt out
  openssl dgst "-$2" -sign "$1" -sigopt rsa_padding_mode:pss \
    -sigopt "rsa_pss_saltlen:$3" -sigopt "rsa_mgf1_md:$2" -out "$4" message.txt
  openssl pkey -in "$1" -pubout -out pub.pem
  openssl dgst "-$2" -verify pub.pem -sigopt rsa_padding_mode:pss \
    -sigopt "rsa_pss_saltlen:$3" -signature "$4" message.txt
}
for bits in 2048 3072 4096; do
  openssl pkey -inform DER -in "../rsa-$bits.pk8.der" -out "rsa-$bits.pem"
done
sign rsa-2048.pem sha256 max rsa2048-sha256-max.sig
sign rsa-2048.pem sha256 32 rsa2048-sha256-salt32.sig
sign rsa-2049.pem sha256 max rsa2049-sha256-max.sig
sign rsa-3072.pem sha384 max rsa3072-sha384-max.sig
sign rsa-4096.pem sha512 0 rsa4096-sha512-salt0.sig
sign rsa-4096.pem sha512 20 rsa4096-sha512-salt20.sig
for bits in 2048 2049 3072 4096; do
  openssl pkey -in "rsa-$bits.pem" -pubout -outform DER -out "rsa$bits.spki.der"
done
rm -f rsa-*.pem pub.pem
