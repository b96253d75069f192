//! Deflate (RFC 1950 zlib, RFC 1951) for `/FlateDecode` streams (ISO 32000-1
//! §7.4.4.1): the font programs, content streams, appearances, DSS entries
//! and cross-reference streams that govseal writes.

use std::cell::RefCell;

use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
};

thread_local! {
    /// One compressor per thread, reset between streams: a fresh one is a
    /// 300 KB allocation, zeroed, for every small stream.
    static COMPRESSOR: RefCell<Option<Box<CompressorOxide>>> = const { RefCell::new(None) };
}

/// Positive window bits: a zlib header and Adler-32 trailer (RFC 1950).
const ZLIB_WINDOW_BITS: i32 = 15;

/// Deflates `data` at `level` (0–10, miniz's scale) into a zlib stream.
pub(crate) fn deflate(data: &[u8], level: u8) -> Vec<u8> {
    COMPRESSOR.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            // Re-entered on this thread (cannot happen today): no sharing.
            return miniz_oxide::deflate::compress_to_vec_zlib(data, level);
        };
        let compressor = slot.get_or_insert_with(|| {
            let flags = create_comp_flags_from_zip_params(level.into(), ZLIB_WINDOW_BITS, 0);
            Box::new(CompressorOxide::new(flags))
        });
        compressor.reset();
        compressor.set_compression_level_raw(level);
        let mut output = vec![0; (data.len() / 2).max(64)];
        let (mut input, mut written) = (data, 0);
        loop {
            let (status, read, wrote) = compress(
                compressor,
                input,
                &mut output[written..],
                TDEFLFlush::Finish,
            );
            written += wrote;
            match status {
                TDEFLStatus::Done => {
                    output.truncate(written);
                    return output;
                }
                TDEFLStatus::Okay if read <= input.len() => {
                    input = &input[read..];
                    if output.len() - written < 64 {
                        output.resize(output.len() * 2, 0);
                    }
                }
                _ => {
                    // miniz reports a bad state only on its own defect; start over
                    // with a fresh compressor rather than emit a broken stream.
                    *slot = None;
                    return miniz_oxide::deflate::compress_to_vec_zlib(data, level);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_streams_inflate_to_their_input_every_time() {
        // The compressor is reused: every stream must be whole on its own.
        let page = b"0 0 1 1 re f\n".repeat(9_000);
        for (data, level) in [
            (&page[..], 1),
            (b"", 6),
            (b"BT /F1 1 Tf ET", 6),
            (&page[..], 6),
        ] {
            let packed = deflate(data, level);
            let unpacked = miniz_oxide::inflate::decompress_to_vec_zlib(&packed).expect("inflate");
            assert_eq!(unpacked, data);
        }
    }
}
