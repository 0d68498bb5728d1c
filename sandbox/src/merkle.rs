//! The ledger's Merkle tree: CCF's left-balanced binary tree (the RFC 6962 shape without
//! domain-separation prefixes), with stored complete subtrees so that roots of any prefix and
//! inclusion paths cost `O(log n)` hashes.

use crate::digest::{Hash, sha256};

/// One step of an inclusion path, from the leaf upwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProofStep {
    /// The sibling is on the left: `parent = SHA256(sibling || current)`.
    Left(Hash),
    /// The sibling is on the right: `parent = SHA256(current || sibling)`.
    Right(Hash),
}

/// An append-only Merkle tree over 32-byte leaves.
///
/// `levels[h][i]` is the root of the complete subtree over leaves `[i * 2^h, (i + 1) * 2^h)`;
/// level 0 holds the leaves themselves.
#[derive(Debug, Default)]
pub(crate) struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

fn parent(left: &Hash, right: &Hash) -> Hash {
    sha256(&[left, right])
}

/// The largest power of two strictly below `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

impl MerkleTree {
    /// An empty tree.
    pub(crate) fn new() -> Self {
        MerkleTree {
            levels: vec![Vec::new()],
        }
    }

    /// Number of leaves.
    pub(crate) fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Appends a leaf.
    pub(crate) fn push(&mut self, leaf: Hash) {
        self.levels[0].push(leaf);
        let mut height = 0;
        let mut index = self.levels[0].len() - 1;
        while index % 2 == 1 {
            let p = parent(&self.levels[height][index - 1], &self.levels[height][index]);
            height += 1;
            if self.levels.len() == height {
                self.levels.push(Vec::new());
            }
            self.levels[height].push(p);
            index = self.levels[height].len() - 1;
        }
    }

    /// Root of the subtree over `len` leaves from `start`, where `start` is a multiple of a
    /// power of two that is at least `len` (always true for the recursion below).
    fn subtree(&self, start: u64, len: u64) -> Hash {
        if len.is_power_of_two() {
            let height = len.trailing_zeros() as usize;
            return self.levels[height][(start >> height) as usize];
        }
        let k = split_point(len);
        parent(&self.subtree(start, k), &self.subtree(start + k, len - k))
    }

    /// Root of the tree over the first `n` leaves, or `None` when `n` is 0 or beyond the end.
    pub(crate) fn root(&self, n: u64) -> Option<Hash> {
        (n >= 1 && n <= self.len()).then(|| self.subtree(0, n))
    }

    /// Inclusion path of leaf `index` in the tree over the first `n` leaves, leaf level first.
    pub(crate) fn path(&self, index: u64, n: u64) -> Option<Vec<ProofStep>> {
        if index >= n || n > self.len() {
            return None;
        }
        let mut steps = Vec::new();
        self.collect_path(index, 0, n, &mut steps);
        steps.reverse();
        Some(steps)
    }

    /// Pushes the path's steps from the top down.
    fn collect_path(&self, index: u64, start: u64, len: u64, steps: &mut Vec<ProofStep>) {
        if len == 1 {
            return;
        }
        let k = split_point(len);
        if index < start + k {
            steps.push(ProofStep::Right(self.subtree(start + k, len - k)));
            self.collect_path(index, start, k, steps);
        } else {
            steps.push(ProofStep::Left(self.subtree(start, k)));
            self.collect_path(index, start + k, len - k, steps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook recursive definition, for comparison.
    fn reference_root(leaves: &[Hash]) -> Hash {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = split_point(leaves.len() as u64) as usize;
        parent(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| sha256(&[&(i as u64).to_le_bytes()]))
            .collect()
    }

    fn fold(leaf: Hash, path: &[ProofStep]) -> Hash {
        path.iter().fold(leaf, |cur, step| match step {
            ProofStep::Left(h) => parent(h, &cur),
            ProofStep::Right(h) => parent(&cur, h),
        })
    }

    #[test]
    fn roots_and_paths_match_the_definition() {
        let all = leaves(70);
        let mut tree = MerkleTree::new();
        for l in &all {
            tree.push(*l);
        }
        for n in 1..=all.len() {
            let root = tree.root(n as u64).unwrap();
            assert_eq!(root, reference_root(&all[..n]), "n = {n}");
            for (i, leaf) in all.iter().enumerate().take(n) {
                let path = tree.path(i as u64, n as u64).unwrap();
                assert_eq!(fold(*leaf, &path), root, "n = {n}, i = {i}");
            }
        }
        assert!(tree.root(0).is_none());
        assert!(tree.root(71).is_none());
        assert!(tree.path(5, 5).is_none());
    }

    #[test]
    fn odd_node_is_carried_up_not_duplicated() {
        let all = leaves(3);
        let mut tree = MerkleTree::new();
        all.iter().for_each(|l| tree.push(*l));
        assert_eq!(
            tree.root(3).unwrap(),
            parent(&parent(&all[0], &all[1]), &all[2])
        );
        assert_eq!(
            tree.path(2, 3).unwrap(),
            vec![ProofStep::Left(parent(&all[0], &all[1]))]
        );
    }
}
