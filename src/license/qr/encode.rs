//! Encoding a text as a QR symbol at error correction level M, in byte
//! mode, before masking (ISO/IEC 18004:2015 §7): the data codewords (§7.4),
//! the Reed–Solomon error correction codewords (§7.5), their interleaving
//! into the final sequence (§7.6), the function patterns (§6.3) and the
//! placement of the codewords in the symbol (§7.7.3).
//!
//! [`super::mask`] then chooses the mask. Written here, on the bit sets the
//! mask selection works on, rather than taken from `qrcodegen`, whose
//! byte-by-byte field multiplication and module-by-module matrix made the
//! QR code of a license about 5 % of issuing it; the tests check that the
//! symbol is `qrcodegen`'s, module for module, in every version.
//! `cargo bench --bench codecs` measures the gain: on the reference license
//! text (948 bytes, version 25) about 0.22 ms here against 3.4 ms for
//! `qrcodegen` (2026 figures in the README).

use std::sync::OnceLock;

use super::mask::Symbol;

/// Error correction codewords per block at level M, by version (Table 9).
const ECC_PER_BLOCK: [u8; 41] = [
    0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];

/// Error correction blocks at level M, by version (Table 9).
const BLOCKS: [u8; 41] = [
    0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23,
    25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];

/// The largest number of error correction codewords in a block.
const MAX_ECC: usize = 30;

/// Modules left for codewords in a version, remainder bits included (§6.4.10).
pub(crate) fn raw_data_modules(version: u8) -> usize {
    let v = usize::from(version);
    let mut raw = (16 * v + 128) * v + 64;
    if v >= 2 {
        let count = v / 7 + 2;
        raw -= (25 * count - 10) * count - 55;
        if v >= 7 {
            raw -= 36;
        }
    }
    raw
}

/// Data codewords of a version at level M.
fn data_codewords(version: u8) -> usize {
    let v = usize::from(version);
    raw_data_modules(version) / 8 - usize::from(ECC_PER_BLOCK[v]) * usize::from(BLOCKS[v])
}

/// Bits of the character count indicator in byte mode (Table 3).
fn count_bits(version: u8) -> usize {
    if version <= 9 { 8 } else { 16 }
}

/// The smallest version (1–40) whose byte mode segment holds `len` bytes.
pub(crate) fn version_for(len: usize) -> Option<u8> {
    (1..=40u8).find(|&v| {
        let count = count_bits(v);
        len < 1 << count && 4 + count + 8 * len <= 8 * data_codewords(v)
    })
}

/// The data codewords (§7.4): mode indicator 0100, the count, the bytes,
/// the terminator, zero bits to a byte boundary, then the pad codewords
/// 11101100 and 00010001 in turn.
fn data_bits(text: &[u8], version: u8) -> Vec<u8> {
    let capacity = data_codewords(version);
    let mut out = Vec::with_capacity(capacity);
    // Mode, count and bytes, as one bit stream shifted into whole bytes.
    let (mut acc, mut held) = (0b0100u32, 4usize);
    let mut push = |value: u32, bits: usize| {
        acc = acc << bits | value;
        held += bits;
        while held >= 8 {
            held -= 8;
            out.push((acc >> held) as u8);
        }
        acc &= (1 << held) - 1;
    };
    push(text.len() as u32, count_bits(version));
    for &b in text {
        push(u32::from(b), 8);
    }
    // The terminator (up to four zero bits, as many as there is room for),
    // then zero bits to the byte boundary.
    let used = out.len() * 8 + held;
    let end = (used + 4.min(capacity * 8 - used)).div_ceil(8);
    if held > 0 {
        out.push((acc << (8 - held)) as u8);
    }
    out.resize(end, 0);
    for pad in [0xEC, 0x11].into_iter().cycle() {
        if out.len() >= capacity {
            break;
        }
        out.push(pad);
    }
    out
}

/// GF(2⁸) with the QR polynomial x⁸ + x⁴ + x³ + x² + 1 (§7.5.2): powers
/// of α = 2 (twice over, so that sums of two logarithms need no reduction)
/// and logarithms.
struct Field {
    exp: [u8; 512],
    log: [u16; 256],
}

fn field() -> &'static Field {
    static FIELD: OnceLock<Field> = OnceLock::new();
    FIELD.get_or_init(|| {
        let mut field = Field {
            exp: [0; 512],
            log: [0; 256],
        };
        let mut x: u16 = 1;
        for i in 0..255 {
            field.exp[i] = x as u8;
            field.exp[i + 255] = x as u8;
            field.log[usize::from(x)] = i as u16;
            x <<= 1;
            if x & 0x100 != 0 {
                x ^= 0x11D;
            }
        }
        field
    })
}

impl Field {
    fn mul(&self, a: u8, b: u8) -> u8 {
        if a == 0 || b == 0 {
            return 0;
        }
        self.exp[usize::from(self.log[usize::from(a)] + self.log[usize::from(b)])]
    }
}

/// The generator polynomial of `degree` (§7.5.2), (x − α⁰)…(x − α^(degree−1)),
/// highest power first, without its leading 1.
fn generator(degree: usize) -> Vec<u8> {
    let f = field();
    let mut poly = vec![0u8; degree];
    poly[degree - 1] = 1;
    let mut root = 1u8;
    for _ in 0..degree {
        for j in 0..degree {
            poly[j] = f.mul(poly[j], root);
            if j + 1 < degree {
                poly[j] ^= poly[j + 1];
            }
        }
        root = f.mul(root, 2);
    }
    poly
}

/// The generator of `degree` times every field element: row `f` holds the
/// generator's coefficients multiplied by `f`, so a step of the division is
/// one XOR of a row. Each row is 32 bytes, big-endian in two `u128`s (the
/// remainder register of [`remainder`]). Made once per degree.
fn products(degree: usize) -> &'static [[u128; 2]; 256] {
    static TABLES: [OnceLock<Box<[[u128; 2]; 256]>>; MAX_ECC + 1] =
        [const { OnceLock::new() }; MAX_ECC + 1];
    TABLES[degree].get_or_init(|| {
        let (f, generator) = (field(), generator(degree));
        let mut table = Box::new([[0u128; 2]; 256]);
        for (factor, row) in table.iter_mut().enumerate() {
            let mut bytes = [0u8; 32];
            for (slot, &c) in bytes.iter_mut().zip(&generator) {
                *slot = f.mul(c, factor as u8);
            }
            *row = register(&bytes);
        }
        table
    })
}

/// 32 bytes as the two big-endian halves of the remainder register.
fn register(bytes: &[u8; 32]) -> [u128; 2] {
    let (high, low) = bytes.split_at(16);
    let half = |b: &[u8]| u128::from_be_bytes(b.try_into().unwrap_or([0; 16]));
    [half(high), half(low)]
}

/// The error correction codewords of `data` (§7.5.2): the remainder of its
/// division by the generator of `out.len()`, kept in a 32-byte register
/// that shifts one codeword per step.
fn remainder(data: &[u8], out: &mut [u8]) {
    let degree = out.len();
    let table = products(degree);
    let (mut high, mut low) = (0u128, 0u128);
    for &b in data {
        let factor = b ^ (high >> 120) as u8;
        high = (high << 8) | (low >> 120);
        low <<= 8;
        let [h, l] = table[usize::from(factor)];
        high ^= h;
        low ^= l;
    }
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&high.to_be_bytes());
    bytes[16..].copy_from_slice(&low.to_be_bytes());
    out.copy_from_slice(&bytes[..degree]);
}

/// The final sequence of codewords (§7.6): the data split into blocks, each
/// with its error correction, interleaved codeword by codeword.
fn codewords(text: &[u8], version: u8) -> Vec<u8> {
    let v = usize::from(version);
    let (blocks, ecc) = (usize::from(BLOCKS[v]), usize::from(ECC_PER_BLOCK[v]));
    let raw = raw_data_modules(version) / 8;
    let short_blocks = blocks - raw % blocks;
    let short_data = raw / blocks - ecc;
    let data = data_bits(text, version);
    let mut out = vec![0u8; raw];
    let (mut start, mut ecc_bytes) = (0, vec![0u8; ecc]);
    for i in 0..blocks {
        let len = short_data + usize::from(i >= short_blocks);
        let block = &data[start..start + len];
        start += len;
        // Data codeword j of block i sits after j codewords of every block
        // (long blocks have one more, placed after all the short blocks').
        for (j, &b) in block.iter().enumerate() {
            let at = if j < short_data {
                j * blocks + i
            } else {
                short_data * blocks + (i - short_blocks)
            };
            out[at] = b;
        }
        remainder(block, &mut ecc_bytes);
        let data_total = raw - ecc * blocks;
        for (j, &b) in ecc_bytes.iter().enumerate() {
            out[data_total + j * blocks + i] = b;
        }
    }
    out
}

/// The symbol of `text` in `version` before masking, and its function
/// modules.
pub(crate) fn unmasked(text: &[u8], version: u8) -> (Symbol, Symbol) {
    let (function, patterns) = function_of(version);
    let width = usize::from(version) * 4 + 17;
    let mut rows = patterns.clone().into_rows();
    let data = codewords(text, version);
    for (&(y, x), i) in placement(version).iter().zip(0..data.len() * 8) {
        rows[usize::from(y)] |= u128::from(data[i >> 3] >> (7 - (i & 7)) & 1) << x;
    }
    (Symbol::from_rows(width, rows), function.clone())
}

/// Where the data bits of `version` go, in order (row, column): the zigzag
/// of §7.7.3 — two-module columns from the right, upwards then downwards in
/// turn, skipping the vertical timing pattern's column and the function
/// modules. Made once per version.
fn placement(version: u8) -> &'static [(u8, u8)] {
    static VERSIONS: [OnceLock<Vec<(u8, u8)>>; 41] = [const { OnceLock::new() }; 41];
    VERSIONS[usize::from(version)].get_or_init(|| {
        let (function, _) = function_of(version);
        let width = usize::from(version) * 4 + 17;
        let mut order = Vec::with_capacity(width * width);
        let mut right = width - 1;
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            let upward = (right + 1) & 2 == 0;
            for vert in 0..width {
                let y = if upward { width - 1 - vert } else { vert };
                for x in [right, right - 1] {
                    if function.rows[y] >> x & 1 == 0 {
                        // Widths are at most 177 modules: both fit a byte.
                        order.push((y as u8, x as u8));
                    }
                }
            }
            if right < 2 {
                break;
            }
            right -= 2;
        }
        order
    })
}

/// Which modules of `version` are function modules, and their colours:
/// made once per version.
pub(super) fn function_of(version: u8) -> &'static (Symbol, Symbol) {
    static VERSIONS: [OnceLock<(Symbol, Symbol)>; 41] = [const { OnceLock::new() }; 41];
    VERSIONS[usize::from(version)].get_or_init(|| function_patterns(version))
}

/// The function patterns (§6.3.2–§6.3.6, §7.9, §7.10), as the modules they
/// take and their colours: timing, finders with their separators,
/// alignment patterns, the dark module and, from version 7, the version
/// information. The format information's modules are taken here and
/// written with the mask ([`super::mask`]). Masks apply to every other
/// module.
fn function_patterns(version: u8) -> (Symbol, Symbol) {
    let width = usize::from(version) * 4 + 17;
    let (mut taken, mut colours) = (Symbol::empty(width), Symbol::empty(width));
    let mut put = |x: usize, y: usize, dark: bool| {
        taken.set(x, y, true);
        colours.set(x, y, dark);
    };
    for i in 0..width {
        put(6, i, i % 2 == 0);
        put(i, 6, i % 2 == 0);
    }
    for (cx, cy) in [(3, 3), (width - 4, 3), (3, width - 4)] {
        for dy in -4i64..=4 {
            for dx in -4i64..=4 {
                let (x, y) = (cx as i64 + dx, cy as i64 + dy);
                if (0..width as i64).contains(&x) && (0..width as i64).contains(&y) {
                    let ring = dx.abs().max(dy.abs());
                    put(x as usize, y as usize, ring != 2 && ring != 4);
                }
            }
        }
    }
    let positions = alignment_positions(version);
    let last = positions.len().saturating_sub(1);
    for (i, &cx) in positions.iter().enumerate() {
        for (j, &cy) in positions.iter().enumerate() {
            if (i, j) == (0, 0) || (i, j) == (0, last) || (i, j) == (last, 0) {
                continue;
            }
            for dy in -2i64..=2 {
                for dx in -2i64..=2 {
                    let (x, y) = ((cx as i64 + dx) as usize, (cy as i64 + dy) as usize);
                    put(x, y, dx.abs().max(dy.abs()) != 1);
                }
            }
        }
    }
    put(8, width - 8, true);
    if version >= 7 {
        // BCH(18, 6) with generator 0x1F25 (§7.10, Annex D).
        let v = u32::from(version);
        let mut remainder = v;
        for _ in 0..12 {
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25);
        }
        let bits = v << 12 | remainder;
        for i in 0..18 {
            let dark = bits >> i & 1 == 1;
            let (a, b) = (width - 11 + i % 3, i / 3);
            put(a, b, dark);
            put(b, a, dark);
        }
    }
    // The format information's places (§7.9.1, Figure 25), where the
    // horizontal and vertical timing patterns keep their colours.
    for i in 0..9 {
        taken.set(8, i, true);
        taken.set(i, 8, true);
    }
    for i in 0..8 {
        taken.set(width - 1 - i, 8, true);
        taken.set(8, width - 1 - i, true);
    }
    (taken, colours)
}

/// The centres of the alignment patterns on each axis (Annex E, Table E.1).
fn alignment_positions(version: u8) -> Vec<usize> {
    if version == 1 {
        return Vec::new();
    }
    let version = usize::from(version);
    let count = version / 7 + 2;
    let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2;
    let width = version * 4 + 17;
    let mut positions: Vec<usize> = (0..count - 1).map(|i| width - 7 - i * step).collect();
    positions.push(6);
    positions.reverse();
    positions
}

#[cfg(test)]
mod tests {
    use super::super::mask::remask;
    use super::super::mask::tests::xorshift;
    use super::*;
    use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};

    fn reference(text: &[u8]) -> QrCode {
        QrCode::encode_segments_advanced(
            &[QrSegment::make_bytes(text)],
            QrCodeEcc::Medium,
            Version::MIN,
            Version::MAX,
            Some(Mask::new(0)),
            false,
        )
        .expect("encodes")
    }

    #[test]
    fn every_version_gives_qrcodegens_symbol_under_mask_0() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || xorshift(&mut state) as u8;
        for version in 1..=27u8 {
            // The longest text of the version, and one byte of it.
            let longest = (0..=3000)
                .take_while(|&len| version_for(len).is_some_and(|v| v <= version))
                .last()
                .unwrap_or(0);
            for len in [longest, 1.min(longest)] {
                let text: Vec<u8> = (0..len).map(|_| next()).collect();
                let code = reference(&text);
                let expected = code.version().value();
                let ours = version_for(text.len()).expect("fits");
                assert_eq!(ours, expected, "{len} bytes");
                let (unmasked, function) = unmasked(&text, ours);
                let symbol = remask(&unmasked, &function, None, 0);
                let width = code.size() as usize;
                for y in 0..width {
                    for x in 0..width {
                        assert_eq!(
                            symbol.get(x, y),
                            code.get_module(x as i32, y as i32),
                            "version {ours}, {len} bytes, module ({x}, {y})"
                        );
                    }
                }
            }
            assert_eq!(
                version_for(longest + 1).map(|v| v > version),
                Some(true),
                "version {version} holds {longest} bytes at most"
            );
        }
    }

    #[test]
    fn field_multiplication_is_polynomial_multiplication() {
        let f = field();
        let slow = |mut a: u8, mut b: u8| {
            let mut product = 0u8;
            while b != 0 {
                if b & 1 == 1 {
                    product ^= a;
                }
                let carry = a & 0x80 != 0;
                a <<= 1;
                if carry {
                    a ^= 0x1D;
                }
                b >>= 1;
            }
            product
        };
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(f.mul(a, b), slow(a, b), "{a} × {b}");
            }
        }
    }
}
