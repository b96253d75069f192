//! An in-memory Merkle tree (RFC 9162 §2.1) holding every complete node, for
//! audits that replay a whole log and for tests.
//!
//! It stores exactly what the SQL storage stores — each complete subtree at
//! `(level, index)` — so the same proof code runs against both.

use super::merkle::{self, Hash, Node, NodeSource, TreeError, completed_nodes, leaf_hash};

/// No complete node exists at that position (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no complete tree node at level {level}, index {index}")]
pub struct MissingNode {
    /// The requested level.
    pub level: u8,
    /// The requested index within the level.
    pub index: u64,
}

/// A Merkle tree kept in memory, level by level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[l][i]` is the complete node `(l, i)`; `levels[0]` are the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        MemoryTree::default()
    }

    /// The tree over these leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// The tree over these entries, hashing each with [`leaf_hash`].
    pub fn from_entries<E: AsRef<[u8]>>(entries: impl IntoIterator<Item = E>) -> Self {
        MemoryTree::from_leaf_hashes(entries.into_iter().map(|e| leaf_hash(e.as_ref())))
    }

    /// Appends a leaf hash, returning the nodes that became complete (as
    /// [`completed_nodes`] would).
    pub fn push(&mut self, leaf: Hash) -> Vec<Node> {
        let nodes = match completed_nodes(self.size(), leaf, &*self) {
            Ok(nodes) => nodes,
            // Unreachable: every left sibling of the new leaf's path is complete.
            Err(_) => return Vec::new(),
        };
        for node in &nodes {
            let level = usize::from(node.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            if let Some(row) = self.levels.get_mut(level) {
                row.push(node.hash);
            }
        }
        nodes
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// The root of the tree over the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, MissingNode> {
        merkle::root(self, size)
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, TreeError<MissingNode>> {
        merkle::inclusion_proof(self, index, size)
    }

    /// The consistency proof from `old_size` to `new_size` leaves.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>, TreeError<MissingNode>> {
        merkle::consistency_proof(self, old_size, new_size)
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(level))?.get(i))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}
