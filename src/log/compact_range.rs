//! The right edge of a Merkle tree (RFC 9162 §2.1): enough to append leaves
//! and compute roots without reading storage.
//!
//! The tree over `[0, size)` is the concatenation of one complete subtree per
//! set bit of `size`, largest first (its "compact range", as transparency-dev
//! calls it). Loading those `popcount(size)` nodes once lets a writer append a
//! whole batch, collect every node to insert and sign the new root, with no
//! further reads.

use super::merkle::{Hash, Node, NodeSource, empty_root, fold_from_right, node_hash};

/// The stored hashes do not match the tree size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a tree of {size} leaves has {expected} right-edge subtrees, not {found}")]
pub struct CompactRangeError {
    /// The tree size.
    pub size: u64,
    /// `popcount(size)`.
    pub expected: usize,
    /// How many hashes were given.
    pub found: usize,
}

/// The complete subtrees covering leaves `[0, size)`, left to right.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The empty tree.
    pub fn new() -> Self {
        CompactRange::default()
    }

    /// Reads the right edge of the tree of `size` leaves from `source`.
    pub fn from_source<S: NodeSource>(source: &S, size: u64) -> Result<Self, S::Error> {
        let mut hashes = Vec::with_capacity(size.count_ones() as usize);
        for (level, index) in edge_positions(size) {
            hashes.push(source.node(level, index)?);
        }
        Ok(CompactRange { size, hashes })
    }

    /// Rebuilds a range from a size and its right-edge hashes, largest subtree first.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, CompactRangeError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(CompactRangeError {
                size,
                expected,
                found: hashes.len(),
            });
        }
        Ok(CompactRange { size, hashes })
    }

    /// The number of leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right-edge subtree hashes, largest (leftmost) first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The root of the tree over `[0, size)`.
    pub fn root(&self) -> Hash {
        fold_from_right(&self.hashes).unwrap_or_else(empty_root)
    }

    /// Appends a leaf hash, returning the nodes that became complete (the
    /// leaf first), exactly as [`completed_nodes`](super::completed_nodes).
    pub fn append(&mut self, leaf: Hash) -> Vec<Node> {
        let mut node = Node {
            level: 0,
            index: self.size,
            hash: leaf,
        };
        let mut nodes = vec![node];
        while node.index & 1 == 1 {
            // The smallest edge subtree is the left sibling at this level.
            let Some(left) = self.hashes.pop() else { break };
            node = Node {
                level: node.level + 1,
                index: node.index >> 1,
                hash: node_hash(&left, &node.hash),
            };
            nodes.push(node);
        }
        self.hashes.push(node.hash);
        self.size += 1;
        nodes
    }
}

/// `(level, index)` of the right-edge subtrees of a tree of `size` leaves,
/// largest first.
pub fn edge_positions(size: u64) -> impl Iterator<Item = (u8, u64)> {
    (0..64u8)
        .rev()
        .filter(move |level| size >> level & 1 == 1)
        .map(move |level| (level, (size >> level) - 1))
}
