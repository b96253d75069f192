//! The Merkle Tree Hash of RFC 9162 §2.1 (unchanged from RFC 6962 §2.1) and
//! proof generation over any node storage.
//!
//! Hashing (§2.1.1): a leaf is `SHA-256(0x00 ‖ entry)`, an inner node is
//! `SHA-256(0x01 ‖ left ‖ right)`, the empty tree is `SHA-256()`. The tree over
//! `n > 1` leaves splits at `k`, the largest power of two smaller than `n`.
//!
//! Storage keeps only **complete** subtrees: the node at `(level, index)`
//! covers leaves `[index·2^level, (index+1)·2^level)`, level 0 being the leaf
//! hashes. Such a node never changes once it exists, so appending a leaf
//! inserts it and the parents it completes ([`completed_nodes`], about two rows
//! a leaf) and nothing is ever recomputed. Every subtree the RFC's recursion
//! visits starts at a multiple of its own rounded-up size, so its ragged right
//! edge decomposes into at most `log₂ n` complete nodes; [`root`],
//! [`inclusion_proof`] (§2.1.3.1) and [`consistency_proof`] (§2.1.4.1) read
//! O(log n) nodes from a [`NodeSource`].

use ring::digest::{Context, SHA256};

/// A SHA-256 hash: a leaf hash, an inner node or a tree root.
pub type Hash = [u8; 32];

/// Where proof generation reads complete subtree hashes from (a database
/// table, a tile cache, or a [`MemoryTree`](super::MemoryTree)).
pub trait NodeSource {
    /// Why a node could not be read.
    type Error;

    /// The hash of the complete subtree at `level` covering leaves
    /// `[index·2^level, (index+1)·2^level)`; level 0 is the leaf hash of leaf `index`.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        (**self).node(level, index)
    }
}

/// A complete subtree node, as storage keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// Height above the leaves (0 = a leaf hash).
    pub level: u8,
    /// Position among the nodes of this level, from the left.
    pub index: u64,
    /// The subtree's Merkle Tree Hash.
    pub hash: Hash,
}

/// Proof generation was asked something impossible, or storage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError<E> {
    /// The leaf is not in the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof from a larger to a smaller tree.
    #[error("tree size {old} cannot grow into the smaller size {new}")]
    SizeDecreases {
        /// The earlier size.
        old: u64,
        /// The later size.
        new: u64,
    },
    /// The node source failed.
    #[error("reading a tree node failed")]
    Source(#[source] E),
}

/// `SHA-256(0x00 ‖ entry)`: the hash of one log entry (RFC 9162 §2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut context = Context::new(&SHA256);
    context.update(&[0x00]);
    context.update(entry);
    finish(context)
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an inner node (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut context = Context::new(&SHA256);
    context.update(&[0x01]);
    context.update(left);
    context.update(right);
    finish(context)
}

/// `SHA-256()`: the root of the empty tree (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    finish(Context::new(&SHA256))
}

fn finish(context: Context) -> Hash {
    let mut hash = [0u8; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// The root hash of the tree holding the first `size` leaves.
pub fn root<S: NodeSource>(source: &S, size: u64) -> Result<Hash, S::Error> {
    subtree_hash(source, 0, size)
}

/// The inclusion proof (audit path) of leaf `leaf_index` in the tree of
/// `tree_size` leaves, ordered from the leaf up (RFC 9162 §2.1.3.1).
pub fn inclusion_proof<S: NodeSource>(
    source: &S,
    leaf_index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if leaf_index >= tree_size {
        return Err(TreeError::IndexOutOfRange {
            index: leaf_index,
            size: tree_size,
        });
    }
    // PATH(m, D[start:end]) unrolled: siblings are found root-down and
    // reported leaf-up. Only the first right sibling can be ragged; below it
    // every subtree is complete.
    let mut siblings = Vec::new();
    let (mut start, mut end) = (0, tree_size);
    while end - start > 1 {
        let split = start + largest_power_of_two_below(end - start);
        if leaf_index < split {
            siblings.push(subtree_hash(source, split, end).map_err(TreeError::Source)?);
            end = split;
        } else {
            siblings.push(subtree_hash(source, start, split).map_err(TreeError::Source)?);
            start = split;
        }
    }
    siblings.reverse();
    Ok(siblings)
}

/// The consistency proof between the trees of `old_size` and `new_size`
/// leaves (RFC 9162 §2.1.4.1). It is empty when `old_size` is 0 or equal to
/// `new_size`: any tree extends the empty one, and a tree extends itself.
pub fn consistency_proof<S: NodeSource>(
    source: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if old_size > new_size {
        return Err(TreeError::SizeDecreases {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:end], b) unrolled; `whole_old_tree` is b.
    let mut hashes = Vec::new();
    let (mut start, mut end) = (0, new_size);
    let mut whole_old_tree = true;
    loop {
        if old_size == end {
            if !whole_old_tree {
                hashes.push(subtree_hash(source, start, end).map_err(TreeError::Source)?);
            }
            break;
        }
        let split = start + largest_power_of_two_below(end - start);
        if old_size <= split {
            hashes.push(subtree_hash(source, split, end).map_err(TreeError::Source)?);
            end = split;
        } else {
            hashes.push(subtree_hash(source, start, split).map_err(TreeError::Source)?);
            start = split;
            whole_old_tree = false;
        }
    }
    hashes.reverse();
    Ok(hashes)
}

/// The complete nodes that exist once leaf `new_leaf_index` (with hash
/// `leaf`) is appended: the leaf at level 0 and each parent it completes,
/// lowest first. `source` must already hold the nodes of the earlier leaves;
/// only the left siblings on the way up are read.
pub fn completed_nodes<S: NodeSource>(
    new_leaf_index: u64,
    leaf: Hash,
    source: &S,
) -> Result<Vec<Node>, S::Error> {
    let mut node = Node {
        level: 0,
        index: new_leaf_index,
        hash: leaf,
    };
    let mut nodes = vec![node];
    while node.index & 1 == 1 {
        let left = source.node(node.level, node.index - 1)?;
        node = Node {
            level: node.level + 1,
            index: node.index >> 1,
            hash: node_hash(&left, &node.hash),
        };
        nodes.push(node);
    }
    Ok(nodes)
}

/// The Merkle Tree Hash of leaves `[start, end)`, for a range the RFC
/// recursion produces (`start` a multiple of the power of two at or above
/// `end − start`): complete nodes for the set bits of the width, largest
/// first, folded from the right as the recursion would.
fn subtree_hash<S: NodeSource>(source: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let mut parts = Vec::with_capacity(64);
    let mut position = start;
    let mut remaining = end.saturating_sub(start);
    while remaining > 0 {
        let level = 63 - remaining.leading_zeros();
        parts.push(source.node(level as u8, position >> level)?);
        position += 1 << level;
        remaining -= 1 << level;
    }
    Ok(fold_from_right(&parts).unwrap_or_else(empty_root))
}

/// Hashes complete subtrees, left to right, into the root of their
/// concatenation; `None` when there are none.
pub(crate) fn fold_from_right(parts: &[Hash]) -> Option<Hash> {
    let (last, rest) = parts.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |right, left| node_hash(left, &right)),
    )
}

/// `k` of RFC 9162 §2.1.1: the largest power of two smaller than `n` (n ≥ 2).
fn largest_power_of_two_below(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}
