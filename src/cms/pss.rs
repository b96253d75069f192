//! RSASSA-PSS verification for any salt length (RFC 8017 §8.1.2), for the
//! signatures ring cannot check: ring verifies PSS only with a salt as long
//! as the hash, while OpenSSL (`-keyopt rsa_padding_mode:pss`) and pyHanko
//! (`--prefer-pss`) sign with the largest salt the modulus allows (222
//! octets for RSA-2048 with SHA-256). [`super::algorithm`] still hands the
//! hash-length salt to ring and only the others to [`verify`].
//!
//! The hash is SHA-256, SHA-384 or SHA-512 (through `ring::digest`), the
//! mask generation function MGF1 over the same hash (RFC 8017 §B.2.1) and
//! the trailer field 1 (octet 0xbc); [`super::algorithm`] refuses other
//! parameters before they get here. RSAVP1 (§5.2.2) is computed with
//! `num-bigint`. Everything here is public data: nothing needs to run in
//! constant time.

use num_bigint::BigUint;

use super::DigestAlgorithm;

/// Why a signature is invalid; each names the step of RFC 8017 that failed.
pub(crate) type Invalid = &'static str;

/// An RSA public key `(n, e)` (RFC 8017 §3.1), read from the certificate's
/// `RSAPublicKey` (§A.1.1).
#[derive(Clone, Debug)]
pub(crate) struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
    /// The length of `n` in bits (`modBits`).
    mod_bits: usize,
}

impl RsaPublicKey {
    /// The key of big-endian `modulus` and `exponent` octets (leading zeros
    /// allowed). The caller checks the sizes it accepts.
    pub(crate) fn new(modulus: &[u8], exponent: &[u8]) -> RsaPublicKey {
        let n = BigUint::from_bytes_be(modulus);
        let mod_bits = usize::try_from(n.bits()).unwrap_or(usize::MAX);
        RsaPublicKey {
            n,
            e: BigUint::from_bytes_be(exponent),
            mod_bits,
        }
    }

    /// `k`, the length of `n` in octets.
    fn k(&self) -> usize {
        self.mod_bits.div_ceil(8)
    }

    /// RSAVP1 (RFC 8017 §5.2.2): `s^e mod n`, the signature representative
    /// `s` first checked to lie in `[0, n-1]` (step 1).
    fn rsavp1(&self, s: &BigUint) -> Result<BigUint, Invalid> {
        if s >= &self.n {
            return Err("the RSA signature representative is not less than n (RFC 8017 §5.2.2)");
        }
        Ok(s.modpow(&self.e, &self.n))
    }
}

/// RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) of `signature` over `message` by
/// `key`, with `hash`, MGF1 over `hash`, a salt of `salt_len` octets and
/// trailer field 1.
pub(crate) fn verify(
    key: &RsaPublicKey,
    hash: DigestAlgorithm,
    salt_len: usize,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Invalid> {
    // Step 1: the signature is k octets long.
    if signature.len() != key.k() {
        return Err("the RSA signature is not as long as the modulus (RFC 8017 §8.1.2 step 1)");
    }
    // Step 2: s = OS2IP(S), m = RSAVP1((n, e), s), EM = I2OSP(m, emLen).
    // (The caller only passes moduli of 2048 bits or more.)
    let em_bits = key
        .mod_bits
        .checked_sub(1)
        .ok_or("the RSA modulus is zero")?;
    let em_len = em_bits.div_ceil(8);
    let m = key.rsavp1(&BigUint::from_bytes_be(signature))?;
    let em = i2osp(&m, em_len)
        .ok_or("the RSA message representative is too long (RFC 8017 §4.1, §8.1.2 step 2c)")?;
    // Step 3.
    emsa_pss_verify(hash, salt_len, message, &em, em_bits)
}

/// I2OSP (RFC 8017 §4.1): `x` as exactly `len` big-endian octets, `None` if
/// `x >= 256^len`.
fn i2osp(x: &BigUint, len: usize) -> Option<Vec<u8>> {
    let bytes = x.to_bytes_be();
    let bytes: &[u8] = if bytes == [0] { &[] } else { &bytes };
    let pad = len.checked_sub(bytes.len())?;
    let mut out = vec![0; pad];
    out.extend_from_slice(bytes);
    Some(out)
}

/// MGF1 (RFC 8017 §B.2.1): `mask_len` octets of `Hash(seed || C)` for the
/// counters `C = 0, 1, …` as four octets.
fn mgf1(hash: DigestAlgorithm, seed: &[u8], mask_len: usize) -> Vec<u8> {
    let mut mask = Vec::with_capacity(mask_len + hash.output_len());
    let mut counter: u32 = 0;
    let mut input = seed.to_vec();
    while mask.len() < mask_len {
        input.truncate(seed.len());
        input.extend_from_slice(&counter.to_be_bytes());
        mask.extend_from_slice(&hash.digest(&input));
        counter += 1;
    }
    mask.truncate(mask_len);
    mask
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of the encoded message `em` (`emLen`
/// octets) of `em_bits` bits for `message`; each step as numbered there.
fn emsa_pss_verify(
    hash: DigestAlgorithm,
    s_len: usize,
    message: &[u8],
    em: &[u8],
    em_bits: usize,
) -> Result<(), Invalid> {
    let em_len = em.len();
    debug_assert_eq!(em_len, em_bits.div_ceil(8));
    // Step 2 (step 1, the hash's input limit, cannot be reached).
    let m_hash = hash.digest(message);
    let h_len = hash.output_len();
    // Step 3.
    if em_len < h_len.saturating_add(s_len).saturating_add(2) {
        return Err("the RSASSA-PSS salt does not fit the modulus (RFC 8017 §9.1.2 step 3)");
    }
    // Step 4.
    if em[em_len - 1] != 0xbc {
        return Err("the RSASSA-PSS encoding does not end in 0xbc (RFC 8017 §9.1.2 step 4)");
    }
    // Step 5.
    let db_len = em_len - h_len - 1;
    let (masked_db, h) = em[..em_len - 1].split_at(db_len);
    // Step 6: the leftmost 8emLen - emBits bits of maskedDB are zero.
    let unused_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8 >> unused_bits;
    if masked_db[0] & !top_mask != 0 {
        return Err(
            "the RSASSA-PSS encoding's leftmost bits are not zero (RFC 8017 §9.1.2 step 6)",
        );
    }
    // Steps 7 to 9.
    let mut db: Vec<u8> = masked_db
        .iter()
        .zip(mgf1(hash, h, db_len))
        .map(|(m, k)| m ^ k)
        .collect();
    db[0] &= top_mask;
    // Step 10: emLen - hLen - sLen - 2 zero octets, then 0x01.
    let zeros = em_len - h_len - s_len - 2;
    if db[..zeros].iter().any(|&b| b != 0) {
        return Err("the RSASSA-PSS padding is not zeros (RFC 8017 §9.1.2 step 10)");
    }
    if db[zeros] != 0x01 {
        return Err("the RSASSA-PSS padding does not end in 0x01 (RFC 8017 §9.1.2 step 10)");
    }
    // Steps 11 to 14.
    let salt = &db[db_len - s_len..];
    let mut m_prime = Vec::with_capacity(8 + h_len + s_len);
    m_prime.extend_from_slice(&[0; 8]);
    m_prime.extend_from_slice(&m_hash);
    m_prime.extend_from_slice(salt);
    if hash.digest(&m_prime) != h {
        return Err("the RSASSA-PSS hash does not match (RFC 8017 §9.1.2 step 14)");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
