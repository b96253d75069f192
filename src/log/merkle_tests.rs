//! Tests of the Merkle tree: the RFC 6962 reference vectors of
//! certificate-transparency's `merkle_tree_test.cc`, and properties checked
//! against a naive transcription of the RFC 9162 §2.1 recursion.

use proptest::prelude::*;

use super::*;

/// The eight leaves of the reference tree.
const LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// Roots of the reference tree for sizes 1 to 8.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path) from the reference file (0-based here).
const INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency proof) from the reference file.
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn h(hex_text: &str) -> Hash {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).expect("test vector is 32 bytes of hex");
    out
}

fn hs(hex_texts: &[&str]) -> Vec<Hash> {
    hex_texts.iter().map(|t| h(t)).collect()
}

fn reference_tree() -> MemoryTree {
    MemoryTree::from_entries(LEAVES)
}

// --- a naive transcription of RFC 9162 §2.1, sharing no code with the module ---

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn naive_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&naive_mth(&d[..k]), &naive_mth(&d[k..]))
        }
    }
}

fn naive_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return Vec::new();
    }
    let k = k_of(d.len());
    if m < k {
        let mut p = naive_path(m, &d[..k]);
        p.push(naive_mth(&d[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &d[k..]);
        p.push(naive_mth(&d[..k]));
        p
    }
}

fn naive_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![naive_mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = naive_subproof(m, &d[..k], b);
        p.push(naive_mth(&d[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &d[k..], false);
        p.push(naive_mth(&d[..k]));
        p
    }
}

fn naive_consistency(m: usize, d: &[Hash]) -> Vec<Hash> {
    if m == 0 || m == d.len() {
        Vec::new()
    } else {
        naive_subproof(m, d, true)
    }
}

fn synthetic_leaves(n: usize, salt: u8) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[&(i as u64).to_be_bytes()[..], &[salt]].concat()))
        .collect()
}

#[test]
fn reference_roots_for_every_size() {
    let tree = reference_tree();
    assert_eq!(
        hex::encode(tree.root(0).unwrap()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    for (size, expected) in (1..=8).zip(ROOTS) {
        assert_eq!(tree.root(size).unwrap(), h(expected), "size {size}");
    }
}

#[test]
fn reference_inclusion_proofs() {
    let tree = reference_tree();
    for (index, size, expected) in INCLUSION {
        let proof = tree.inclusion_proof(index, size).unwrap();
        assert_eq!(proof, hs(expected), "leaf {index} of {size}");
        let leaf = leaf_hash(LEAVES[index as usize]);
        let root = h(ROOTS[size as usize - 1]);
        assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
    }
}

#[test]
fn reference_consistency_proofs() {
    let tree = reference_tree();
    for (old, new, expected) in CONSISTENCY {
        let proof = tree.consistency_proof(old, new).unwrap();
        assert_eq!(proof, hs(expected), "{old} -> {new}");
        let (old_root, new_root) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &proof),
            Ok(())
        );
        if old != new {
            assert_eq!(
                verify_consistency(old, new, &new_root, &new_root, &proof),
                Err(ProofError::RootMismatch)
            );
        }
    }
}

#[test]
fn stored_nodes_match_the_reference_tree() {
    // Level 1 and 2 nodes of the 8-leaf tree, as the reference lists them.
    let tree = reference_tree();
    assert_eq!(tree.node(1, 2).unwrap(), h(CONSISTENCY[2].2[0]));
    assert_eq!(tree.node(2, 1).unwrap(), h(INCLUSION[1].2[2]));
    assert_eq!(tree.node(3, 0).unwrap(), h(ROOTS[7]));
    assert_eq!(tree.node(3, 1), Err(MissingNode { level: 3, index: 1 }));
}

#[test]
fn impossible_requests_are_errors() {
    let tree = reference_tree();
    assert!(matches!(
        tree.inclusion_proof(8, 8),
        Err(TreeError::IndexOutOfRange { index: 8, size: 8 })
    ));
    assert!(matches!(
        tree.consistency_proof(5, 4),
        Err(TreeError::SizeDecreases { old: 5, new: 4 })
    ));
    assert!(matches!(
        tree.inclusion_proof(3, 9),
        Err(TreeError::Source(MissingNode { .. }))
    ));
    let root = tree.root(8).unwrap();
    assert_eq!(
        verify_inclusion(&leaf_hash(b""), 8, 8, &[], &root),
        Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        verify_consistency(5, 4, &root, &root, &[]),
        Err(ProofError::SizeDecreases { old: 5, new: 4 })
    );
    assert_eq!(
        verify_consistency(0, 8, &root, &root, &[root]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(verify_consistency(0, 8, &root, &root, &[]), Ok(()));
    assert_eq!(
        verify_consistency(4, 8, &tree.root(4).unwrap(), &root, &[]),
        Err(ProofError::WrongLength)
    );
}

#[test]
fn proofs_read_few_nodes() {
    use std::cell::Cell;
    struct Counting<'a>(&'a MemoryTree, Cell<usize>);
    impl NodeSource for Counting<'_> {
        type Error = MissingNode;
        fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
            self.1.set(self.1.get() + 1);
            self.0.node(level, index)
        }
    }
    let tree = MemoryTree::from_leaf_hashes(synthetic_leaves(1000, 0));
    let counting = Counting(&tree, Cell::new(0));
    for (old, new) in [(1, 1000), (999, 1000), (511, 777), (512, 1000)] {
        counting.1.set(0);
        consistency_proof(&counting, old, new).unwrap();
        assert!(
            counting.1.get() <= 2 * 10,
            "{old}->{new}: {}",
            counting.1.get()
        );
    }
    for index in [0, 500, 998, 999] {
        counting.1.set(0);
        inclusion_proof(&counting, index, 1000).unwrap();
        assert!(
            counting.1.get() <= 2 * 10,
            "leaf {index}: {}",
            counting.1.get()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn roots_and_proofs_match_the_naive_recursion(size in 1usize..300, salt: u8) {
        let leaves = synthetic_leaves(size, salt);
        let tree = MemoryTree::from_leaf_hashes(leaves.iter().copied());
        let mut edge = CompactRange::new();
        for (i, leaf) in leaves.iter().enumerate() {
            prop_assert_eq!(edge.append(*leaf), completed_nodes(i as u64, *leaf, &tree).unwrap());
            prop_assert_eq!(edge.root(), naive_mth(&leaves[..=i]));
        }
        prop_assert_eq!(&CompactRange::from_source(&tree, size as u64).unwrap(), &edge);
        let root = tree.root(size as u64).unwrap();
        prop_assert_eq!(root, naive_mth(&leaves));
        for (i, leaf) in leaves.iter().enumerate() {
            let proof = tree.inclusion_proof(i as u64, size as u64).unwrap();
            prop_assert_eq!(&proof, &naive_path(i, &leaves));
            prop_assert_eq!(verify_inclusion(leaf, i as u64, size as u64, &proof, &root), Ok(()));
        }
        for old in 0..=size {
            let proof = tree.consistency_proof(old as u64, size as u64).unwrap();
            prop_assert_eq!(&proof, &naive_consistency(old, &leaves));
            let old_root = naive_mth(&leaves[..old]);
            prop_assert_eq!(
                verify_consistency(old as u64, size as u64, &old_root, &root, &proof),
                Ok(())
            );
        }
    }

    #[test]
    fn tampered_inclusion_proofs_fail(
        size in 2u64..300, index_seed: u64, flip_seed: u64, bit in 0u8..8, other_seed: u64,
    ) {
        // A longer tree with the same prefix supplies the roots of other sizes.
        let leaves = synthetic_leaves(2 * size as usize, 7);
        let tree = MemoryTree::from_leaf_hashes(leaves.iter().copied());
        let root = tree.root(size).unwrap();
        let index = index_seed % size;
        let leaf = leaves[index as usize];
        let proof = tree.inclusion_proof(index, size).unwrap();

        let mut flipped = proof.clone();
        let byte = (flip_seed % (32 * proof.len() as u64)) as usize;
        flipped[byte / 32][byte % 32] ^= 1 << bit;
        prop_assert!(verify_inclusion(&leaf, index, size, &flipped, &root).is_err());

        let mut bad_leaf = leaf;
        bad_leaf[(flip_seed % 32) as usize] ^= 1 << bit;
        prop_assert!(verify_inclusion(&bad_leaf, index, size, &proof, &root).is_err());

        let other_index = (index + 1 + other_seed % (size - 1)) % size;
        prop_assert!(verify_inclusion(&leaf, other_index, size, &proof, &root).is_err());

        // A proof for one size does not prove inclusion in the tree of another.
        // (With the *same* root it may: the RFC algorithm cannot tell the
        // tree of 6 from a claimed tree of 7 — a checkpoint binds size and root.)
        for other_size in [size - 1, size + 1, size * 2] {
            let other_root = tree.root(other_size).unwrap();
            prop_assert!(verify_inclusion(&leaf, index, other_size, &proof, &other_root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
        prop_assert!(verify_inclusion(&leaf, index, size, &proof[..proof.len() - 1], &root).is_err());
    }

    #[test]
    fn tampered_consistency_proofs_fail(
        new_size in 2u64..300, old_seed: u64, flip_seed: u64, bit in 0u8..8,
    ) {
        let tree = MemoryTree::from_leaf_hashes(synthetic_leaves(new_size as usize + 1, 9));
        let old_size = 1 + old_seed % (new_size - 1);
        let (old_root, new_root) = (tree.root(old_size).unwrap(), tree.root(new_size).unwrap());
        let proof = tree.consistency_proof(old_size, new_size).unwrap();

        let mut flipped = proof.clone();
        let byte = (flip_seed % (32 * proof.len() as u64)) as usize;
        flipped[byte / 32][byte % 32] ^= 1 << bit;
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &flipped).is_err());

        let mut bad_old = old_root;
        bad_old[(flip_seed % 32) as usize] ^= 1 << bit;
        prop_assert!(verify_consistency(old_size, new_size, &bad_old, &new_root, &proof).is_err());
        let mut bad_new = new_root;
        bad_new[(flip_seed % 32) as usize] ^= 1 << bit;
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &bad_new, &proof).is_err());

        for (o, n) in [(old_size + 1, new_size), (old_size - 1, new_size), (old_size, new_size + 1), (old_size, new_size - 1)] {
            if (o, n) != (old_size, new_size) && o >= 1 && o < n {
                let roots = (tree.root(o).unwrap(), tree.root(n).unwrap());
                prop_assert!(verify_consistency(o, n, &roots.0, &roots.1, &proof).is_err(), "{}->{}", o, n);
            }
        }
        let mut longer = proof.clone();
        longer.push(new_root);
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &longer).is_err());
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof[..proof.len() - 1]).is_err());
    }
}
