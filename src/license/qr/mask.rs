//! Data masking (ISO/IEC 18004:2015 §7.8): the symbol is encoded once,
//! unmasked ([`super::encode`]), and the mask of lowest penalty is then
//! chosen here on rows and columns held as bit sets.
//!
//! Choosing the mask means scoring all eight masked symbols (§7.8.3). The
//! encoders we tried score module by module: for a version-25 symbol that is
//! about 1.5 ms (`fast_qr`) or 3 ms (`qrcodegen`), 85 % of the cost of
//! making the QR code and the largest single part of issuing a license. A
//! row of up to 128 modules is one `u128` here, so masking is one XOR a row,
//! runs of five and finder-like patterns are found for all positions at once
//! with shifts and ANDs, and 2 × 2 blocks with four ANDs. With the encoder
//! of [`super::encode`] the whole QR code of the reference 12-field license
//! (version 25) takes about 0.1 ms, of which 0.04 ms is encoding and the
//! rest masking and scoring, the finder-like patterns counted only while a
//! mask can still win (release build, this machine, 2026-12-02; it was 0.5
//! ms with `qrcodegen` encoding).
//!
//! The penalty is `qrcodegen`'s reading of §7.8.3.1 (Nayuki's reference
//! implementation): N1 = 3 for each run of five or more same-coloured
//! modules in a row or column plus one per module beyond five, N2 = 3 per
//! 2 × 2 block of one colour, N3 = 40 per 1:1:3:1:1 finder-like pattern with
//! four light modules (the quiet zone counts) on one side, and N4 = 10 per 5 %
//! of dark modules away from half. The tests check that the symbol equals
//! `qrcodegen`'s under every mask and that the mask chosen is the one
//! `qrcodegen` chooses.

use std::sync::OnceLock;

/// A row (or column) of modules: bit `i` is module `i`, 1 = dark.
type Line = u128;

/// The widest symbol the bit sets hold (version 27 is 125 modules).
pub(crate) const MAX_WIDTH: usize = 128;

/// A symbol held twice, as rows and as columns, so that both directions of
/// the penalty read whole lines.
#[derive(Clone)]
pub(crate) struct Symbol {
    pub(super) width: usize,
    pub(super) rows: Vec<Line>,
    columns: Vec<Line>,
}

impl Symbol {
    pub(super) fn empty(width: usize) -> Self {
        Symbol {
            width,
            rows: vec![0; width],
            columns: vec![0; width],
        }
    }

    /// The symbol whose row `y` is `rows[y]` (bit `x`: column `x`).
    pub(super) fn from_rows(width: usize, rows: Vec<Line>) -> Self {
        let mut square = [0; MAX_WIDTH];
        square[..rows.len()].copy_from_slice(&rows);
        transpose(&mut square);
        Symbol {
            width,
            columns: square[..width].to_vec(),
            rows,
        }
    }

    /// The rows, bit `x` of row `y` for the module in column `x`.
    pub(crate) fn into_rows(self) -> Vec<Line> {
        self.rows
    }

    /// Whether the module in column `x`, row `y` is dark.
    #[cfg(test)]
    pub(crate) fn get(&self, x: usize, y: usize) -> bool {
        self.rows[y] >> x & 1 == 1
    }

    pub(super) fn set(&mut self, x: usize, y: usize, dark: bool) {
        let (row, column) = (1u128 << x, 1u128 << y);
        if dark {
            self.rows[y] |= row;
            self.columns[x] |= column;
        } else {
            self.rows[y] &= !row;
            self.columns[x] &= !column;
        }
    }
}

/// Transposes a 128 × 128 bit matrix in place (bit `x` of line `y` goes to
/// bit `y` of line `x`) by swapping ever smaller off-diagonal blocks
/// (Hacker's Delight §7-3): 7 rounds of 64 line pairs.
fn transpose(m: &mut [Line; MAX_WIDTH]) {
    let (mut j, mut mask) = (64usize, Line::MAX >> 64);
    while j != 0 {
        let mut k = 0;
        while k < MAX_WIDTH {
            let t = ((m[k] >> j) ^ m[k + j]) & mask;
            m[k] ^= t << j;
            m[k + j] ^= t;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        mask ^= mask << j;
    }
}

/// Mask `k`'s condition for the module in column `x`, row `y` (§7.8.2, Table 10).
#[allow(clippy::manual_is_multiple_of)] // written as Table 10 writes them
fn masked(k: u8, x: usize, y: usize) -> bool {
    match k {
        0 => (x + y) % 2 == 0,
        1 => y % 2 == 0,
        2 => x % 3 == 0,
        3 => (x + y) % 3 == 0,
        4 => (x / 3 + y / 2) % 2 == 0,
        5 => x * y % 2 + x * y % 3 == 0,
        6 => (x * y % 2 + x * y % 3) % 2 == 0,
        _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
    }
}

/// Every mask repeats every 6 modules across and every 12 down (mask 4's
/// `y / 2` has period 4), so a line of a mask is one of 12 (rows) or 6
/// (columns) repeating patterns: `[mask][y % 12]` as rows, `[mask][x % 6]`
/// as columns.
struct MaskLines {
    rows: [[Line; 12]; 8],
    columns: [[Line; 6]; 8],
}

fn mask_lines() -> &'static MaskLines {
    static LINES: OnceLock<MaskLines> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut lines = MaskLines {
            rows: [[0; 12]; 8],
            columns: [[0; 6]; 8],
        };
        for k in 0..8u8 {
            for i in 0..MAX_WIDTH {
                for y in 0..12 {
                    if masked(k, i, y) {
                        lines.rows[usize::from(k)][y] |= 1 << i;
                    }
                }
                for x in 0..6 {
                    if masked(k, x, i) {
                        lines.columns[usize::from(k)][x] |= 1 << i;
                    }
                }
            }
        }
        lines
    })
}

/// The 15 format information bits for level M and mask `k` (§7.9.1):
/// BCH(15, 5) with generator 0x537, XOR 0x5412.
fn format_bits(k: u8) -> u32 {
    // Level M is 00 in the format information (Table 12).
    let data = u32::from(k);
    let mut remainder = data;
    for _ in 0..10 {
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537);
    }
    (data << 10 | remainder) ^ 0x5412
}

/// Writes the format information of mask `k` in both its places (§7.9.1, Figure 25).
fn write_format(symbol: &mut Symbol, k: u8) {
    let bits = format_bits(k);
    let bit = |i: usize| bits >> i & 1 == 1;
    let width = symbol.width;
    for i in 0..6 {
        symbol.set(8, i, bit(i));
    }
    symbol.set(8, 7, bit(6));
    symbol.set(8, 8, bit(7));
    symbol.set(7, 8, bit(8));
    for i in 9..15 {
        symbol.set(14 - i, 8, bit(i));
    }
    for i in 0..8 {
        symbol.set(width - 1 - i, 8, bit(i));
    }
    for i in 8..15 {
        symbol.set(8, width - 15 + i, bit(i));
    }
    symbol.set(8, width - 8, true);
}

/// The symbol under mask `k`, from the same symbol under mask `from`
/// (`None`: unmasked).
pub(super) fn remask(symbol: &Symbol, function: &Symbol, from: Option<u8>, k: u8) -> Symbol {
    let lines = mask_lines();
    let k = usize::from(k);
    let from_rows = |y: usize| from.map_or(0, |f| lines.rows[usize::from(f)][y % 12]);
    let from_columns = |x: usize| from.map_or(0, |f| lines.columns[usize::from(f)][x % 6]);
    let mut out = symbol.clone();
    // The mask lines run to 128 modules; the symbol stops at its width.
    let inside: Line = if out.width >= MAX_WIDTH {
        Line::MAX
    } else {
        (1 << out.width) - 1
    };
    for (y, row) in out.rows.iter_mut().enumerate() {
        *row ^= (from_rows(y) ^ lines.rows[k][y % 12]) & !function.rows[y] & inside;
    }
    for (x, column) in out.columns.iter_mut().enumerate() {
        *column ^= (from_columns(x) ^ lines.columns[k][x % 6]) & !function.columns[x] & inside;
    }
    write_format(&mut out, k as u8);
    out
}

/// The penalty score of a masked symbol (§7.8.3.1, Table 11), if it is
/// below `limit`: the finder-like patterns (N3, the costly part) are counted
/// last and only while the score can still beat the best mask so far.
fn penalty_below(symbol: &Symbol, limit: u32) -> Option<u32> {
    let width = symbol.width;
    let mut score = 0;
    for line in symbol.rows.iter().chain(&symbol.columns) {
        score += line_n1(*line, width);
    }
    // N2: 2 × 2 blocks of one colour.
    let inner: Line = (1u128 << (width - 1)) - 1;
    for pair in symbol.rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let dark = a & b & (a >> 1) & (b >> 1);
        let light = !a & !b & !(a >> 1) & !(b >> 1);
        score += 3 * ((dark | light) & inner).count_ones();
    }
    // N4: the proportion of dark modules.
    let dark: u32 = symbol.rows.iter().map(|r| r.count_ones()).sum();
    let total = (width * width) as u32;
    // Widths are odd, so the difference is never 0.
    let k = (dark * 20)
        .abs_diff(total * 10)
        .div_ceil(total)
        .saturating_sub(1);
    score += k * 10;
    for line in symbol.rows.iter().chain(&symbol.columns) {
        if score >= limit {
            return None;
        }
        score += line_n3(*line, width);
    }
    (score < limit).then_some(score)
}

/// N1 and N3 along one line.
#[cfg(test)]
fn line_penalty(dark: Line, width: usize) -> u32 {
    line_n1(dark, width) + line_n3(dark, width)
}

/// N1 along one line of `width` modules: 3 + (L − 5) for a run of L ≥ 5,
/// i.e. one per window of five equal modules plus two per run. Bit `p` of
/// each set below stands for a condition on the modules from `p` on.
fn line_n1(dark: Line, width: usize) -> u32 {
    let equal_next = !(dark ^ (dark >> 1)) & ((1u128 << (width - 1)) - 1);
    let five = equal_next & (equal_next >> 1) & (equal_next >> 2) & (equal_next >> 3);
    let runs = five & !(five << 1);
    five.count_ones() + 2 * runs.count_ones()
}

/// N3 along one line of `width` modules: dark n, light n, dark 3n, light n,
/// dark n — each run exactly that long — with light 4n before and n after,
/// or n before and 4n after. Modules outside the line are light (the quiet
/// zone).
fn line_n3(dark: Line, width: usize) -> u32 {
    let mut score = 0;
    for n in 1..=width / 7 {
        let centre = dark_run(dark, 3 * n);
        if centre == 0 {
            break; // and no longer centre run either
        }
        let core = light_before(dark, 1)
            & dark_run(dark, n)
            & shr(light_run(dark, n), n)
            & shr(centre, 2 * n)
            & shr(light_run(dark, n), 5 * n)
            & shr(dark_run(dark, n), 6 * n);
        if core == 0 {
            continue;
        }
        let before = |k| light_before(dark, k);
        let after = |k| shr(light_run(dark, k), 7 * n);
        score += 40 * (core & before(4 * n) & after(n)).count_ones();
        score += 40 * (core & before(n) & after(4 * n)).count_ones();
    }
    score
}

fn shr(line: Line, by: usize) -> Line {
    line.checked_shr(by as u32).unwrap_or(0)
}

fn shl(line: Line, by: usize) -> Line {
    line.checked_shl(by as u32).unwrap_or(0)
}

/// Bit `p`: `join` of the bits that `k` steps of `shift` bring to `p`
/// (itself included), doubling the window each step.
fn window(
    line: Line,
    k: usize,
    join: fn(Line, Line) -> Line,
    shift: fn(Line, usize) -> Line,
) -> Line {
    let (mut all, mut covered) = (line, 1);
    while covered * 2 <= k {
        all = join(all, shift(all, covered));
        covered *= 2;
    }
    if covered < k {
        all = join(all, shift(all, k - covered));
    }
    all
}

fn or(a: Line, b: Line) -> Line {
    a | b
}

fn and(a: Line, b: Line) -> Line {
    a & b
}

/// Bit `p`: modules `p .. p + k` all dark (beyond the line, none is).
fn dark_run(dark: Line, k: usize) -> Line {
    window(dark, k, and, shr)
}

/// Bit `p`: modules `p .. p + k` all light (beyond the line, they are).
fn light_run(dark: Line, k: usize) -> Line {
    !window(dark, k, or, shr)
}

/// Bit `p`: modules `p − k .. p` all light (before the line, they are:
/// shifting towards higher positions brings light modules in).
fn light_before(dark: Line, k: usize) -> Line {
    !window(dark << 1, k, or, shl)
}

/// Encodes `text` in byte mode at level M, in the smallest version that
/// holds it, with the mask of lowest penalty. Returns the version and the
/// symbol, or `None` when the text needs a version beyond `max_version`
/// (with the version it needs) or fits no QR code at all.
pub(crate) fn encode(text: &[u8], max_version: u8) -> Result<(u8, Symbol), Option<u8>> {
    let version = super::encode::version_for(text.len()).ok_or(None)?;
    if version > max_version || usize::from(version) * 4 + 17 > MAX_WIDTH {
        return Err(Some(version));
    }
    let (unmasked, function) = super::encode::unmasked(text, version);
    // The first mask of lowest penalty: a later one must score strictly less.
    let mut best: Option<(u32, Symbol)> = None;
    for k in 0..8 {
        let candidate = remask(&unmasked, &function, None, k);
        let limit = best.as_ref().map_or(u32::MAX, |(s, _)| *s);
        if let Some(score) = penalty_below(&candidate, limit) {
            best = Some((score, candidate));
        }
    }
    match best {
        Some((_, symbol)) => Ok((version, symbol)),
        None => Err(None),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};

    fn reference(text: &[u8], mask: Option<u8>) -> QrCode {
        QrCode::encode_segments_advanced(
            &[QrSegment::make_bytes(text)],
            QrCodeEcc::Medium,
            Version::MIN,
            Version::MAX,
            mask.map(Mask::new),
            false,
        )
        .expect("encodes")
    }

    fn same(symbol: &Symbol, code: &QrCode) -> bool {
        let width = code.size() as usize;
        symbol.width == width
            && (0..width).all(|y| {
                (0..width).all(|x| symbol.get(x, y) == code.get_module(x as i32, y as i32))
            })
    }

    /// A xorshift64 step (Marsaglia 2003): varied test data, the same every run.
    pub(crate) fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn texts() -> Vec<Vec<u8>> {
        let mut texts = vec![b"https://gov.example/v/x".to_vec(), Vec::new()];
        // Lengths that land on versions 1 to 25, with varied bytes.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for len in [5, 40, 90, 150, 230, 300, 420, 560, 700, 850, 997] {
            let text: Vec<u8> = (0..len)
                .map(|_| b"ABCdef0123-_/:.xyz"[(xorshift(&mut state) % 18) as usize])
                .collect();
            texts.push(text);
        }
        texts
    }

    /// N1 and N3 along one line, run by run.
    fn reference_line_penalty(line: Line, width: usize) -> u32 {
        let mut score = 0;
        let mut history = RunHistory::new(width);
        // A light run of length 0 stands before the line, as in qrcodegen.
        let (mut colour, mut length) = (false, 0usize);
        let mut x = 0;
        while x < width {
            let dark = line >> x & 1 == 1;
            let differs = if dark { !line } else { line } >> x;
            let run = (differs.trailing_zeros() as usize).min(width - x);
            if dark == colour {
                length += run;
            } else {
                history.push(length);
                if !colour {
                    score += history.finder_like() * 40;
                }
                colour = dark;
                length = run;
            }
            if run >= 5 {
                score += 3 + (run as u32 - 5);
            }
            x += run;
        }
        score + history.terminate(colour, length) * 40
    }

    /// The last seven run lengths of a line, newest first (qrcodegen's
    /// `finderPenaltyAddHistory`): the light quiet zone is counted into the first.
    struct RunHistory {
        runs: [usize; 7],
        width: usize,
    }

    impl RunHistory {
        fn new(width: usize) -> Self {
            RunHistory {
                runs: [0; 7],
                width,
            }
        }

        fn push(&mut self, mut length: usize) {
            if self.runs[0] == 0 {
                length += self.width;
            }
            self.runs.copy_within(0..6, 1);
            self.runs[0] = length;
        }

        /// Finder-like patterns (dark 1:1:3:1:1) that end at the newest runs, with
        /// four light modules on one side.
        fn finder_like(&self) -> u32 {
            let r = &self.runs;
            let n = r[1];
            let core = n > 0 && r[2] == n && r[3] == n * 3 && r[4] == n && r[5] == n;
            u32::from(core && r[0] >= n * 4 && r[6] >= n)
                + u32::from(core && r[6] >= n * 4 && r[0] >= n)
        }

        /// Ends the line with the light quiet zone after it.
        fn terminate(&mut self, colour: bool, mut length: usize) -> u32 {
            if colour {
                self.push(length);
                length = 0;
            }
            length += self.width;
            self.push(length);
            self.finder_like()
        }
    }

    #[test]
    fn bit_set_penalties_equal_the_run_by_run_count() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || xorshift(&mut state);
        for width in [21, 25, 57, 117, 125] {
            let full: Line = (1 << width) - 1;
            let mut lines: Vec<Line> = vec![0, full, 0b1011101, 0b1011101 << (width - 7)];
            // Finder-like patterns of every scale, and random lines.
            for n in 1..=width / 7 {
                let core: Line =
                    ((1 << n) - 1) | ((1 << (3 * n)) - 1) << (2 * n) | ((1 << n) - 1) << (6 * n);
                for at in [0, 1, 4 * n, width - 7 * n] {
                    lines.push((core << at) & full);
                }
            }
            for _ in 0..2_000 {
                let random = (u128::from(next()) << 64 | u128::from(next())) & full;
                // Long runs too: AND or OR with a shifted copy.
                lines.push(random);
                lines.push(random & (random >> 1) & (random >> 2));
                lines.push(random | (random >> 1) | (random >> 2));
            }
            for line in lines {
                assert_eq!(
                    line_penalty(line, width),
                    reference_line_penalty(line, width),
                    "width {width}, line {line:b}"
                );
            }
        }
    }

    #[test]
    fn transposing_moves_every_bit_across_the_diagonal() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut m = [0; MAX_WIDTH];
        for line in m.iter_mut() {
            let next = xorshift(&mut state);
            *line = u128::from(next) << 64 | u128::from(next.rotate_left(29));
        }
        let original = m;
        transpose(&mut m);
        for (y, line) in original.iter().enumerate() {
            for (x, column) in m.iter().enumerate() {
                assert_eq!(column >> y & 1, line >> x & 1, "({x}, {y})");
            }
        }
    }

    #[test]
    fn function_modules_leave_the_data_capacity_of_every_version() {
        for version in 1..=27u8 {
            let v = usize::from(version);
            let raw = super::super::encode::raw_data_modules(version);
            let function = super::super::encode::function_of(version).0.clone();
            let width = v * 4 + 17;
            let marked: usize = function.rows.iter().map(|r| r.count_ones() as usize).sum();
            assert_eq!(width * width - marked, raw, "version {version}");
            let by_columns: usize = function
                .columns
                .iter()
                .map(|c| c.count_ones() as usize)
                .sum();
            assert_eq!(marked, by_columns, "version {version}");
        }
    }

    #[test]
    fn every_mask_gives_qrcodegens_symbol() {
        for text in texts() {
            let (version, _) = encode(&text, 27).expect("fits");
            let mask_0_code = reference(&text, Some(0));
            let width = mask_0_code.size() as usize;
            let mut base = Symbol::empty(width);
            for y in 0..width {
                for x in 0..width {
                    base.set(x, y, mask_0_code.get_module(x as i32, y as i32));
                }
            }
            let function = super::super::encode::function_of(version).0.clone();
            for k in 0..8u8 {
                let ours = remask(&base, &function, Some(0), k);
                assert!(
                    same(&ours, &reference(&text, Some(k))),
                    "mask {k}, {} bytes",
                    text.len()
                );
                for (x, column) in ours.columns.iter().enumerate() {
                    let from_rows: Line =
                        (0..width).filter(|&y| ours.get(x, y)).map(|y| 1 << y).sum();
                    assert_eq!(*column, from_rows, "column {x} under mask {k}");
                }
            }
        }
    }

    #[test]
    fn the_mask_chosen_is_qrcodegens() {
        for text in texts() {
            let (_, ours) = encode(&text, 27).expect("fits");
            assert!(same(&ours, &reference(&text, None)), "{} bytes", text.len());
        }
    }

    #[test]
    fn too_long_texts_name_the_version_they_need() {
        assert_eq!(encode(&[b'a'; 997], 25).map(|(v, _)| v), Ok(25));
        assert_eq!(encode(&[b'a'; 1_100], 25).map(|(v, _)| v), Err(Some(27)));
        assert_eq!(encode(&[b'a'; 3_000], 25).map(|(v, _)| v), Err(None));
    }
}
