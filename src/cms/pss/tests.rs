//! Known-answer vectors made by OpenSSL (`tests/data/pss/make.sh`: `openssl
//! dgst -sign -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:…` over
//! `message.txt` with the fixture keys), and each check of RFC 8017 §8.1.2,
//! §9.1.2 and §5.2.2 failing on its own.

use super::*;
use der::Decode;
use spki::SubjectPublicKeyInfoOwned;

use DigestAlgorithm::{Sha256, Sha384, Sha512};

const MESSAGE: &[u8] = include_bytes!("../../../tests/data/pss/message.txt");

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/pss/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The public key of `tests/data/pss/rsa<bits>.spki.der`.
fn key(bits: usize) -> RsaPublicKey {
    let spki = SubjectPublicKeyInfoOwned::from_der(&data(&format!("rsa{bits}.spki.der"))).unwrap();
    let rsa = super::super::algorithm::RsaPublicKey::from_der(spki.subject_public_key.raw_bytes())
        .unwrap();
    let key = RsaPublicKey::new(rsa.modulus.as_bytes(), rsa.public_exponent.as_bytes());
    assert_eq!(key.mod_bits, bits);
    key
}

/// (key bits, hash, salt length, signature file), all by OpenSSL.
const VECTORS: [(usize, DigestAlgorithm, usize, &str); 6] = [
    (2048, Sha256, 222, "rsa2048-sha256-max.sig"),
    (2048, Sha256, 32, "rsa2048-sha256-salt32.sig"),
    // emBits = 2048: EM is one octet shorter than the modulus.
    (2049, Sha256, 222, "rsa2049-sha256-max.sig"),
    (3072, Sha384, 334, "rsa3072-sha384-max.sig"),
    (4096, Sha512, 0, "rsa4096-sha512-salt0.sig"),
    (4096, Sha512, 20, "rsa4096-sha512-salt20.sig"),
];

#[test]
fn openssl_pss_signatures_verify_with_the_salt_they_were_made_with() {
    for (bits, hash, salt, file) in VECTORS {
        let signature = data(file);
        verify(&key(bits), hash, salt, MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        // Nothing else verifies: another message, salt, hash or key.
        assert!(verify(&key(bits), hash, salt, b"another message", &signature).is_err());
        for other in [0, 1, 20, 32, 64, 221, 223, 334, 335] {
            if other != salt {
                assert!(
                    verify(&key(bits), hash, other, MESSAGE, &signature).is_err(),
                    "{file} with salt {other}"
                );
            }
        }
        for other in [Sha256, Sha384, Sha512] {
            if other != hash {
                assert!(
                    verify(&key(bits), other, salt, MESSAGE, &signature).is_err(),
                    "{file} with {other:?}"
                );
            }
        }
        let other_key = key(if bits == 3072 { 4096 } else { 3072 });
        assert!(verify(&other_key, hash, salt, MESSAGE, &signature).is_err());
    }
}

#[test]
fn ring_agrees_on_the_hash_length_salt() {
    // The vector ring can check itself checks the same under ring.
    let signature = data("rsa2048-sha256-salt32.sig");
    let spki = SubjectPublicKeyInfoOwned::from_der(&data("rsa2048.spki.der")).unwrap();
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PSS_2048_8192_SHA256,
        spki.subject_public_key.raw_bytes(),
    )
    .verify(MESSAGE, &signature)
    .unwrap();
}

#[test]
fn any_flipped_bit_of_the_signature_is_refused() {
    for (bits, hash, salt, file) in VECTORS {
        let signature = data(file);
        for i in (0..signature.len()).step_by(7).chain([signature.len() - 1]) {
            for bit in [0, 3, 7] {
                let mut altered = signature.clone();
                altered[i] ^= 1 << bit;
                assert!(
                    verify(&key(bits), hash, salt, MESSAGE, &altered).is_err(),
                    "{file}: octet {i} bit {bit}"
                );
            }
        }
    }
}

#[test]
fn a_signature_not_below_the_modulus_or_of_another_length_is_refused() {
    let key = key(2048);
    let n = key.n.to_bytes_be();
    let n_plus_one = (&key.n + 1u32).to_bytes_be();
    for s in [n.clone(), n_plus_one, vec![0xff; 256]] {
        assert_eq!(
            verify(&key, Sha256, 222, MESSAGE, &s),
            Err("the RSA signature representative is not less than n (RFC 8017 §5.2.2)")
        );
    }
    let signature = data("rsa2048-sha256-max.sig");
    let mut longer = vec![0];
    longer.extend_from_slice(&signature);
    for s in [&signature[1..], &longer[..], &[]] {
        let e = verify(&key, Sha256, 222, MESSAGE, s).unwrap_err();
        assert!(e.contains("§8.1.2 step 1"), "{e}");
    }
}

#[test]
fn a_representative_longer_than_the_encoded_message_is_refused() {
    // With a 2049-bit modulus EM has 256 octets: a representative of 2^2048
    // or more (about half of those below n) cannot be encoded (§4.1).
    let key = key(2049);
    let refused = (2u32..40)
        .map(|s| {
            let mut signature = vec![0; 257];
            signature[256] = s as u8;
            verify(&key, Sha256, 222, MESSAGE, &signature)
        })
        .filter(|r| r.is_err_and(|e| e.contains("§8.1.2 step 2c")))
        .count();
    assert!(refused > 0);
}

/// The encoded message of a vector: `s^e mod n` as emLen octets.
fn encoded(bits: usize, file: &str) -> (Vec<u8>, usize) {
    let key = key(bits);
    let m = key.rsavp1(&BigUint::from_bytes_be(&data(file))).unwrap();
    let em_bits = bits - 1;
    (i2osp(&m, em_bits.div_ceil(8)).unwrap(), em_bits)
}

#[test]
fn each_check_of_emsa_pss_verify_refuses_on_its_own() {
    let check = |em: &[u8], em_bits, salt| emsa_pss_verify(Sha256, salt, MESSAGE, em, em_bits);
    let (em, em_bits) = encoded(2048, "rsa2048-sha256-salt32.sig");
    assert_eq!(check(&em, em_bits, 32), Ok(()));
    let step = |em: &[u8], salt, step: &str| {
        let e = check(em, em_bits, salt).unwrap_err();
        assert!(e.contains(step), "{e} should be {step}");
    };
    // Step 3: hLen + sLen + 2 > emLen.
    step(&em, 223, "step 3");
    step(&em, usize::MAX, "step 3");
    // Step 4: the trailer 0xbc.
    for trailer in [0xbd, 0xcc, 0x00, 0xbc ^ 0x80] {
        let mut altered = em.clone();
        *altered.last_mut().unwrap() = trailer;
        step(&altered, 32, "step 4");
    }
    // Step 6: the leftmost (8emLen - emBits = 1) bit must be zero.
    let mut altered = em.clone();
    altered[0] |= 0x80;
    step(&altered, 32, "step 6");
    // Flipping an octet of maskedDB flips the same octet of DB (the mask
    // depends on H only). Step 10: 256 - 32 - 32 - 2 = 190 zeros, then 0x01.
    for i in [0, 1, 100, 189] {
        let mut altered = em.clone();
        altered[i] ^= 0x01;
        step(&altered, 32, "is not zeros");
    }
    let mut altered = em.clone();
    altered[190] ^= 0x03;
    step(&altered, 32, "does not end in 0x01");
    // Steps 11 to 14: another salt octet (DB is em[..223]).
    for i in [191, 200, 222] {
        let mut altered = em.clone();
        altered[i] ^= 0x10;
        step(&altered, 32, "step 14");
    }
    // Another H (em[223..255]) unmasks DB into noise.
    for i in [223, 254] {
        let mut altered = em.clone();
        altered[i] ^= 0x10;
        assert!(check(&altered, em_bits, 32).is_err());
    }
    // The same EM read with a shorter salt finds the 0x01 among the zeros;
    // with a longer one, a zero where the 0x01 should be.
    step(&em, 31, "is not zeros");
    step(&em, 33, "does not end in 0x01");

    // The largest salt: no zeros, DB starts with 0x01 under the masked bit.
    let (em, em_bits) = encoded(2048, "rsa2048-sha256-max.sig");
    assert_eq!(check(&em, em_bits, 222), Ok(()));
    let mut altered = em.clone();
    altered[0] ^= 0x01;
    assert!(check(&altered, em_bits, 222).unwrap_err().contains("0x01"));

    // emBits a multiple of 8: nothing masked, the whole first octet is DB.
    let (em, em_bits) = encoded(2049, "rsa2049-sha256-max.sig");
    assert_eq!((em.len(), em_bits), (256, 2048));
    assert_eq!(check(&em, em_bits, 222), Ok(()));
}

#[test]
fn mgf1_repeats_the_hash_with_a_counter() {
    // RFC 8017 §B.2.1 with maskLen = 2 hLen + 1: Hash(seed||0) ||
    // Hash(seed||1) || first octet of Hash(seed||2).
    let mask = mgf1(Sha384, b"seed", 97);
    let mut expected = Vec::new();
    for c in 0u8..3 {
        expected.extend(Sha384.digest(&[b"seed".as_slice(), &[0, 0, 0, c]].concat()));
    }
    assert_eq!(mask, expected[..97]);
    assert!(mgf1(Sha512, b"", 0).is_empty());
}

#[test]
fn ring_signatures_with_the_hash_length_salt_verify_here_too() {
    // The other implementation of the same scheme: what ring signs (a fresh
    // random salt each time) verifies here, altered it does not.
    use ring::signature::{RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512, RsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    for bits in [2048, 3072, 4096] {
        let path = format!(
            "{}/tests/data/rsa-{bits}.pk8.der",
            env!("CARGO_MANIFEST_DIR")
        );
        let pair = RsaKeyPair::from_pkcs8(&std::fs::read(path).unwrap()).unwrap();
        let key = key(bits);
        for (hash, padding) in [
            (Sha256, &RSA_PSS_SHA256),
            (Sha384, &RSA_PSS_SHA384),
            (Sha512, &RSA_PSS_SHA512),
        ] {
            for message in [&b""[..], b"x", &[0xa5; 1000]] {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut signature).unwrap();
                let salt = hash.output_len();
                verify(&key, hash, salt, message, &signature)
                    .unwrap_or_else(|e| panic!("RSA-{bits} {hash:?}: {e}"));
                signature[bits / 16] ^= 0x40;
                assert!(verify(&key, hash, salt, message, &signature).is_err());
            }
        }
    }
}
