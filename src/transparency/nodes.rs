//! The stored tree: complete subtree hashes in `log_nodes`, read for proofs.
//!
//! The proof algorithms of [`crate::log`] read nodes through the synchronous
//! [`NodeSource`] trait. Which nodes they read depends only on the sizes and
//! indices asked about, never on hash values (RFC 9162 §2.1.3.1 and §2.1.4.1
//! recurse on sizes alone), so [`compute`] runs the algorithm once against a
//! recorder to learn the O(log n) positions, fetches exactly those rows, and
//! runs it again against the fetched map.

use std::cell::RefCell;
use std::collections::HashMap;

use sqlx::Row;

use super::TransparencyError;
use crate::log::{Hash, MissingNode, Node, NodeSource};
use crate::store::Connection;

/// Nodes fetched from storage, or (while planning) a recorder of requests.
#[derive(Debug, Default)]
pub struct NodeMap {
    nodes: HashMap<(u8, u64), Hash>,
    requested: Option<RefCell<Vec<(u8, u64)>>>,
}

impl NodeSource for NodeMap {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        if let Some(requested) = &self.requested {
            requested.borrow_mut().push((level, index));
            return Ok([0; 32]);
        }
        self.nodes
            .get(&(level, index))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

/// Runs `algorithm` over the stored tree, reading only the nodes it needs.
pub async fn compute<T, E>(
    conn: &mut Connection,
    algorithm: impl Fn(&NodeMap) -> Result<T, E>,
) -> Result<T, TransparencyError>
where
    TransparencyError: From<E>,
{
    let planner = NodeMap {
        nodes: HashMap::new(),
        requested: Some(RefCell::new(Vec::new())),
    };
    algorithm(&planner)?;
    let positions = planner
        .requested
        .map(RefCell::into_inner)
        .unwrap_or_default();
    let mut map = NodeMap::default();
    for (level, index) in positions {
        if let Some(hash) = read_node(conn, level, index).await? {
            map.nodes.insert((level, index), hash);
        }
    }
    Ok(algorithm(&map)?)
}

/// One stored node.
pub async fn read_node(
    conn: &mut Connection,
    level: u8,
    index: u64,
) -> Result<Option<Hash>, TransparencyError> {
    let row = sqlx::query("SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2")
        .bind(i32::from(level))
        .bind(to_i64(index)?)
        .fetch_optional(conn)
        .await?;
    row.map(|row| hash_column(&row, "hash")).transpose()
}

/// Inserts freshly completed nodes, many rows per statement.
pub async fn insert_nodes(conn: &mut Connection, nodes: &[Node]) -> Result<(), TransparencyError> {
    const ROWS_PER_STATEMENT: usize = 300;
    for chunk in nodes.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from("INSERT INTO log_nodes (level, idx, hash) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for node in chunk {
            query = query
                .bind(i32::from(node.level))
                .bind(to_i64(node.index)?)
                .bind(node.hash.to_vec());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A 32-byte hash column.
pub fn hash_column(row: &sqlx::any::AnyRow, column: &str) -> Result<Hash, TransparencyError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    Hash::try_from(bytes.as_slice())
        .map_err(|_| TransparencyError::Inconsistent(format!("a stored {column} is not 32 bytes")))
}

/// A tree position as SQL `BIGINT`.
pub fn to_i64(value: u64) -> Result<i64, TransparencyError> {
    i64::try_from(value).map_err(|_| TransparencyError::Inconsistent("tree index overflow".into()))
}

/// A SQL `BIGINT` as a tree position.
pub fn to_u64(value: i64) -> Result<u64, TransparencyError> {
    u64::try_from(value)
        .map_err(|_| TransparencyError::Inconsistent("negative tree index or size".into()))
}
