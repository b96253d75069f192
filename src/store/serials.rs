//! License serials taken from the database in blocks, as PostgreSQL's
//! sequences with `CACHE` do (CREATE SEQUENCE, "cache"): one write to the
//! counter row reserves [`BLOCK`] serials for this process, which hands them
//! out from memory. Serials stay unique across processes sharing the
//! database, since each block is reserved by an atomic upsert; a process
//! that stops leaves the rest of its blocks unused, a gap like the one a
//! failed issuance leaves.

use std::collections::{HashMap, VecDeque};
use std::ops::RangeInclusive;
use std::sync::{Mutex, PoisonError};

use sqlx::AnyPool;

use super::{Connection, StoreError};

/// Serials reserved per write to the counter.
pub const BLOCK: i64 = 16;

/// (type code, issuer USCC): whose serials.
type Counter = (String, String);

/// The serials this process has reserved and not yet handed out, by counter.
#[derive(Debug, Default)]
pub struct SerialBlocks(Mutex<HashMap<Counter, VecDeque<RangeInclusive<i64>>>>);

impl SerialBlocks {
    /// The next serial of (type, issuer): from a reserved block, or from a
    /// new block reserved in the database behind `pool`.
    pub async fn next(
        &self,
        pool: &AnyPool,
        type_code: &str,
        issuer_uscc: &str,
    ) -> Result<i64, StoreError> {
        let key: Counter = (type_code.to_string(), issuer_uscc.to_string());
        if let Some(serial) = self.take(&key) {
            return Ok(serial);
        }
        let mut conn = pool.acquire().await?;
        let last = reserve(&mut conn, type_code, issuer_uscc, BLOCK).await?;
        let first = last - BLOCK + 1;
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.entry(key).or_default().push_back(first + 1..=last);
        Ok(first)
    }

    fn take(&self, key: &Counter) -> Option<i64> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        pop(held.get_mut(key)?)
    }
}

/// The first serial of the first block, dropping blocks used up.
fn pop(blocks: &mut VecDeque<RangeInclusive<i64>>) -> Option<i64> {
    while let Some(block) = blocks.front_mut() {
        if let Some(serial) = block.next() {
            return Some(serial);
        }
        blocks.pop_front();
    }
    None
}

/// Moves the counter of (type, issuer) `count` serials on, atomically, and
/// returns its new value: the serials up to it from `value − count + 1` are
/// the caller's.
async fn reserve(
    conn: &mut Connection,
    type_code: &str,
    issuer_uscc: &str,
    count: i64,
) -> Result<i64, StoreError> {
    let (last,): (i64,) = sqlx::query_as(
        "INSERT INTO license_serials (type_code, issuer_uscc, last_serial) VALUES ($1, $2, $3) \
         ON CONFLICT (type_code, issuer_uscc) DO UPDATE SET last_serial = license_serials.last_serial + $3 \
         RETURNING last_serial",
    )
    .bind(type_code)
    .bind(issuer_uscc)
    .bind(count)
    .fetch_one(conn)
    .await?;
    Ok(last)
}
