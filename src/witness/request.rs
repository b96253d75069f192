//! The `add-checkpoint` request body (c2sp.org/tlog-witness §"add-checkpoint"):
//!
//! ```text
//! old <size>\n
//! <base64 consistency proof hash>\n     (0 to 63 lines)
//! \n
//! <signed checkpoint note>
//! ```

use crate::log::Hash;
use crate::log::checkpoint::{parse_base64_hash, parse_canonical_decimal};

/// A client may send at most 63 consistency proof lines.
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed (not yet checked) add-checkpoint request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint<'a> {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old: u64,
    /// The RFC 9162 §2.1.4 consistency proof from `old` to the new size.
    pub proof: Vec<Hash>,
    /// The checkpoint note, signatures included.
    pub note: &'a str,
}

/// Parses a request body strictly; the error says what is wrong (HTTP 400).
pub fn parse(body: &str) -> Result<AddCheckpoint<'_>, &'static str> {
    let (first, mut rest) = body
        .split_once('\n')
        .ok_or("the body must start with an `old <size>` line")?;
    let old = first
        .strip_prefix("old ")
        .and_then(parse_canonical_decimal)
        .ok_or("the first line must be `old <size>` with a canonical decimal size")?;
    let mut proof = Vec::new();
    loop {
        let (line, tail) = rest
            .split_once('\n')
            .ok_or("no blank line before the checkpoint")?;
        rest = tail;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err("more than 63 consistency proof lines");
        }
        proof.push(
            parse_base64_hash(line)
                .ok_or("a consistency proof line is not a 32-byte hash in canonical base64")?,
        );
    }
    if rest.is_empty() {
        return Err("no checkpoint after the blank line");
    }
    Ok(AddCheckpoint {
        old,
        proof,
        note: rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example_shape() {
        let hash = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
        let body = format!("old 20852014\n{hash}\n{hash}\n\norigin\n5\nroot\n\n— k sig\n");
        let request = parse(&body).unwrap();
        assert_eq!(request.old, 20852014);
        assert_eq!(request.proof.len(), 2);
        assert_eq!(request.note, "origin\n5\nroot\n\n— k sig\n");
        assert!(parse("old 0\n\nnote\n").unwrap().proof.is_empty());
    }

    #[test]
    fn refuses_malformed_bodies() {
        let hash = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
        let too_many = format!("old 1\n{}\nnote\n", format!("{hash}\n").repeat(64));
        for body in [
            "",
            "old 01\n\nnote\n",
            "old -1\n\nnote\n",
            "new 1\n\nnote\n",
            "old 1\nnot-base64\n\nnote\n",
            "old 1\nAAAA\n\nnote\n",
            "old 1\n",
            "old 1\n\n",
            too_many.as_str(),
        ] {
            assert!(parse(body).is_err(), "{body:?}");
        }
    }
}
