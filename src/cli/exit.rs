//! The exit codes of every `govseal` command. `verify` keeps 0, 1 and 2 for
//! the three indications of ETSI EN 319 102-1 (§5.1.3); an error that is no
//! verdict has a code of its own, taken from BSD `sysexits.h`, so that a
//! script never takes a missing file or a mistyped flag for a forged
//! document (clap's own usage code, 2, would read as INDETERMINATE).

/// Success; `verify`: TOTAL-PASSED.
pub const SUCCESS: u8 = 0;
/// The check failed: `verify` TOTAL-FAILED, a `log audit` finding, rows
/// that `licenses import` could not issue, `init` over an existing PKI.
pub const FAILED: u8 = 1;
/// `verify`: INDETERMINATE.
pub const INDETERMINATE: u8 = 2;
/// A usage error: an unknown flag, a missing or invalid argument (`EX_USAGE`).
pub const USAGE: u8 = 64;
/// The input was read but cannot be used as a whole (`EX_DATAERR`).
pub const DATA: u8 = 65;
/// An input cannot be read: a missing or unreadable file, a trust bundle
/// that is missing or holds no usable certificate (`EX_NOINPUT`).
pub const NO_INPUT: u8 = 66;
/// Any other error: database, key store, configuration, writing files
/// (`EX_SOFTWARE`); the message says which.
pub const ERROR: u8 = 70;

/// The table, as `govseal --help` and `govseal verify --help` print it.
pub const TABLE: &str = "\
Exit codes:
  0   success; verify: TOTAL-PASSED
  1   the check failed: verify TOTAL-FAILED, a log audit finding, rows licenses
      import could not issue, init over an existing PKI
  2   verify: INDETERMINATE
  64  usage error: unknown flag, missing or invalid argument
  65  input unusable as a whole: verify a file over the size limit; licenses
      import an unknown type or a bad header
  66  input cannot be read: missing or unreadable file, trust bundle missing or
      without a usable certificate
  70  any other error (database, key store, configuration, writing files)";

/// An error that ends the process with `code` rather than [`ERROR`].
#[derive(Debug, thiserror::Error)]
#[error("{error:#}")]
pub struct Coded {
    /// The exit code.
    pub code: u8,
    error: anyhow::Error,
}

/// `error`, ending the process with `code`.
pub fn coded(code: u8, error: impl Into<anyhow::Error>) -> anyhow::Error {
    Coded {
        code,
        error: error.into(),
    }
    .into()
}

/// The exit code of a command that failed with `error`.
pub fn code_of(error: &anyhow::Error) -> u8 {
    error.downcast_ref::<Coded>().map_or(ERROR, |c| c.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coded_error_keeps_its_code_and_message_under_context() {
        let e = coded(NO_INPUT, anyhow::anyhow!("no such file")).context("reading x.pdf");
        assert_eq!(code_of(&e), NO_INPUT);
        assert_eq!(format!("{e:#}"), "reading x.pdf: no such file");
        assert_eq!(code_of(&anyhow::anyhow!("database is locked")), ERROR);
    }
}
