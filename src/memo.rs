//! A bounded memo of results that depend only on their key (a drawing, a
//! parsed picture, a compressed stream), shared by the threads of the
//! process: the work is done once per key rather than once per signature.
//!
//! When full the memo is emptied and starts again: the keys are few (seals,
//! CA certificates and CRLs), so a simple bound is enough to keep memory
//! flat if they are not.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Up to `kept` results by key.
pub(crate) struct Memo<K, V> {
    entries: OnceLock<Mutex<HashMap<K, V>>>,
    kept: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty memo that keeps up to `kept` results.
    pub(crate) const fn new(kept: usize) -> Self {
        Memo {
            entries: OnceLock::new(),
            kept,
        }
    }

    /// The value for `key`, made by `make` if it is not kept.
    pub(crate) fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V {
        let made: Result<V, std::convert::Infallible> = self.get_or_try(key, || Ok(make()));
        let Ok(value) = made;
        value
    }

    /// The result for `key`, made by `make` if it is not kept. Two threads
    /// may both make a missing result; both get a correct one.
    pub(crate) fn get_or_try<E>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let entries = self.entries.get_or_init(Default::default);
        if let Some(value) = entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(value.clone());
        }
        let value = make()?;
        let mut entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.kept {
            entries.clear();
        }
        entries.insert(key, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_each_result_once_and_stays_within_its_bound() {
        let memo: Memo<u32, u32> = Memo::new(2);
        let made = std::cell::Cell::new(0);
        let get = |k: u32| {
            memo.get_or_try(k, || {
                made.set(made.get() + 1);
                Ok::<_, ()>(k * 10)
            })
        };
        assert_eq!(get(1), Ok(10));
        assert_eq!(get(1), Ok(10));
        assert_eq!(get(2), Ok(20));
        assert_eq!(made.get(), 2);
        assert_eq!(get(3), Ok(30), "full: emptied, then kept");
        assert_eq!(get(1), Ok(10));
        assert_eq!(made.get(), 4);
        assert_eq!(memo.get_or_try(9, || Err("no")), Err("no"));
        assert_eq!(
            memo.get_or_try(9, || Ok::<_, &str>(90)),
            Ok(90),
            "errors are not kept"
        );
    }
}
