//! Aligning two runs node by node, for `diff_traces`.
//!
//! Two spans correspond when they sit at the same path from the top: the same key (span type and
//! name) at every level. Siblings are aligned as sequences, with a minimal edit script (Myers' diff,
//! the `similar` crate): an extra tool call in the middle of run B is one `added` row and every later
//! call still lines up with its counterpart, where pairing by index would shift them all. Nodes
//! left over on one side are `removed` (only in A) or `added` (only in B), with their whole subtree.

use crate::tree::Tree;
use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::hash::Hash;

/// One row of the alignment: a node of A, of B, or of both, and its depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub a: Option<usize>,
    pub b: Option<usize>,
    pub depth: usize,
}

/// Aligns the trees depth-first: each pair is followed by the alignment of its children. `key_a`
/// and `key_b` give each node's key (indexed by node).
pub fn align<K: Eq + Hash + Ord>(a: &Tree, key_a: &[K], b: &Tree, key_b: &[K]) -> Vec<Pair> {
    let tops = |tree: &Tree| -> Vec<usize> {
        tree.preorder
            .iter()
            .copied()
            .filter(|n| tree.parent[*n].is_none())
            .collect()
    };
    let mut rows = Vec::with_capacity(a.preorder.len().max(b.preorder.len()));
    // Pending pairs, last one next: an explicit stack, so deep chains need no recursion.
    let mut pending: Vec<Pair> = Vec::new();
    push_aligned(&mut pending, &tops(a), key_a, &tops(b), key_b, 0);
    while let Some(pair) = pending.pop() {
        rows.push(pair);
        let children_a: &[usize] = pair.a.map_or(&[], |n| &a.children[n]);
        let children_b: &[usize] = pair.b.map_or(&[], |n| &b.children[n]);
        push_aligned(
            &mut pending,
            children_a,
            key_a,
            children_b,
            key_b,
            pair.depth + 1,
        );
    }
    rows
}

/// Aligns two sibling lists and pushes the pairs so that the first one is popped first.
fn push_aligned<K: Eq + Hash + Ord>(
    pending: &mut Vec<Pair>,
    list_a: &[usize],
    key_a: &[K],
    list_b: &[usize],
    key_b: &[K],
    depth: usize,
) {
    let keys_a: Vec<&K> = list_a.iter().map(|n| &key_a[*n]).collect();
    let keys_b: Vec<&K> = list_b.iter().map(|n| &key_b[*n]).collect();
    let mut pairs = Vec::with_capacity(list_a.len().max(list_b.len()));
    let only_a = |i: usize| Pair {
        a: Some(list_a[i]),
        b: None,
        depth,
    };
    let only_b = |j: usize| Pair {
        a: None,
        b: Some(list_b[j]),
        depth,
    };
    for op in capture_diff_slices(Algorithm::Myers, &keys_a, &keys_b) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => pairs.extend((0..len).map(|k| Pair {
                a: Some(list_a[old_index + k]),
                b: Some(list_b[new_index + k]),
                depth,
            })),
            DiffOp::Delete {
                old_index, old_len, ..
            } => pairs.extend((old_index..old_index + old_len).map(only_a)),
            DiffOp::Insert {
                new_index, new_len, ..
            } => pairs.extend((new_index..new_index + new_len).map(only_b)),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                pairs.extend((old_index..old_index + old_len).map(only_a));
                pairs.extend((new_index..new_index + new_len).map(only_b));
            }
        }
    }
    pending.extend(pairs.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Node;

    /// A flat run: one root "run" with the given children, in time order.
    fn run(children: &[&'static str]) -> (Vec<Node>, Vec<&'static str>) {
        let mut nodes = vec![Node {
            span_id: [0, 0, 0, 0, 0, 0, 0, 1],
            parent_id: None,
            start: 0,
            end: 1000,
        }];
        let mut keys = vec!["run"];
        for (i, key) in children.iter().enumerate() {
            nodes.push(Node {
                span_id: [0, 0, 0, 0, 0, 0, 1, i as u8],
                parent_id: Some([0, 0, 0, 0, 0, 0, 0, 1]),
                start: i as i64 * 10,
                end: i as i64 * 10 + 5,
            });
            keys.push(key);
        }
        (nodes, keys)
    }

    fn describe(pairs: &[Pair], ka: &[&str], kb: &[&str]) -> Vec<String> {
        pairs
            .iter()
            .map(|p| match (p.a, p.b) {
                (Some(a), Some(b)) => format!("{}={}", ka[a], kb[b]),
                (Some(a), None) => format!("-{}", ka[a]),
                (None, Some(b)) => format!("+{}", kb[b]),
                (None, None) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn an_extra_call_in_the_middle_does_not_shift_later_calls() {
        let (na, ka) = run(&["llm", "tool", "llm", "tool", "llm"]);
        let (nb, kb) = run(&["llm", "tool", "tool", "llm", "tool", "llm"]);
        let (ta, tb) = (Tree::build(&na), Tree::build(&nb));
        let pairs = align(&ta, &ka, &tb, &kb);
        assert_eq!(
            describe(&pairs, &ka, &kb),
            vec![
                "run=run",
                "llm=llm",
                "tool=tool",
                "+tool",
                "llm=llm",
                "tool=tool",
                "llm=llm"
            ]
        );
        assert!(pairs[1..].iter().all(|p| p.depth == 1));
    }

    #[test]
    fn a_subtree_only_in_one_run_comes_whole() {
        let na = vec![
            Node {
                span_id: [0, 0, 0, 0, 0, 0, 0, 1],
                parent_id: None,
                start: 0,
                end: 10,
            },
            Node {
                span_id: [0, 0, 0, 0, 0, 0, 0, 2],
                parent_id: Some([0, 0, 0, 0, 0, 0, 0, 1]),
                start: 1,
                end: 2,
            },
            Node {
                span_id: [0, 0, 0, 0, 0, 0, 0, 3],
                parent_id: Some([0, 0, 0, 0, 0, 0, 0, 2]),
                start: 1,
                end: 2,
            },
        ];
        let ka = vec!["run", "agent", "llm"];
        let (nb, kb) = run(&[]);
        let pairs = align(&Tree::build(&na), &ka, &Tree::build(&nb), &kb);
        assert_eq!(
            describe(&pairs, &ka, &kb),
            vec!["run=run", "-agent", "-llm"]
        );
        assert_eq!(pairs[2].depth, 2);
    }

    #[test]
    fn different_roots_and_empty_runs() {
        let (na, ka) = run(&["llm"]);
        let kb = vec!["other"];
        let nb = vec![na[0].clone()];
        let pairs = align(&Tree::build(&na), &ka, &Tree::build(&nb), &kb);
        assert_eq!(describe(&pairs, &ka, &kb), vec!["-run", "-llm", "+other"]);
        let empty: Vec<&str> = Vec::new();
        assert!(align(&Tree::build(&[]), &empty, &Tree::build(&[]), &empty).is_empty());
    }
}
