//! Aligning two runs node by node, for `diff_traces`.
//!
//! Two spans correspond when they sit at the same path from the top: the same key (span type and
//! name) at every level. Siblings are aligned as sequences, with a minimal edit script (Myers' diff):
//! an extra tool call in the middle of run B is one `added` row and every later call still lines up
//! with its counterpart, where pairing by index would shift them all. Nodes left over on one side
//! are `removed` (only in A) or `added` (only in B), with their whole subtree.
//!
//! Cost. Aligning N and M siblings that differ in D places takes about (N + M) x D key comparisons
//! (Myers' O(ND) algorithm, in its linear-space form: memory grows with N + M only). That is cheap
//! for runs that resemble each other and quadratic for runs that do not: two lists of 50,000 tool
//! calls in different orders would take billions of comparisons. So a diff gets a budget of
//! comparisons ([`Budget`]); the sibling list that exhausts it, and every list aligned after it, is
//! aligned by position instead ([`Alignment::Positional`]: their common start and end exactly, the
//! rest pair by position), in linear time. Every row says which way its list was aligned.

use crate::interrupts;
use crate::tree::Tree;
use std::collections::HashMap;
use std::hash::Hash;

/// How the sibling list a row belongs to was aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alignment {
    /// A minimal edit script (Myers).
    Exact,
    /// The budget was spent: common start and end matched, the middle paired by position.
    Positional,
}

impl Alignment {
    pub fn as_str(self) -> &'static str {
        match self {
            Alignment::Exact => "exact",
            Alignment::Positional => "positional",
        }
    }
}

/// One row of the alignment: a node of A, of B, or of both, its depth, and how its list was
/// aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub a: Option<usize>,
    pub b: Option<usize>,
    pub depth: usize,
    pub alignment: Alignment,
}

/// Key comparisons (and diagonal steps) the exact alignment of one diff may still spend.
#[derive(Debug)]
pub struct Budget {
    left: u64,
}

impl Budget {
    pub fn new(comparisons: u64) -> Budget {
        Budget { left: comparisons }
    }

    /// Spends `n`; false (and nothing left) when fewer than `n` remain.
    fn spend(&mut self, n: u64) -> bool {
        if self.left < n {
            self.left = 0;
            false
        } else {
            self.left -= n;
            true
        }
    }
}

/// The budget ran out: align by position.
struct Exhausted;

/// Aligns the trees depth-first: each pair is followed by the alignment of its children. `key_a`
/// and `key_b` give each node's key (indexed by node).
pub fn align<'k, K: Eq + Hash>(
    a: &Tree,
    key_a: &'k [K],
    b: &Tree,
    key_b: &'k [K],
    budget: &mut Budget,
) -> Vec<Pair> {
    // Keys become small integers once, so the alignment compares integers, not strings.
    let mut ids: HashMap<&K, u32> = HashMap::new();
    let mut intern = |keys: &'k [K]| -> Vec<u32> {
        keys.iter()
            .map(|key| {
                interrupts::check();
                let next = ids.len() as u32;
                *ids.entry(key).or_insert(next)
            })
            .collect()
    };
    let (ids_a, ids_b) = (intern(key_a), intern(key_b));
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
    let lists = Lists {
        ids_a: &ids_a,
        ids_b: &ids_b,
    };
    lists.push_aligned(&mut pending, &tops(a), &tops(b), 0, budget);
    while let Some(pair) = pending.pop() {
        interrupts::check();
        rows.push(pair);
        let children_a: &[usize] = pair.a.map_or(&[], |n| &a.children[n]);
        let children_b: &[usize] = pair.b.map_or(&[], |n| &b.children[n]);
        lists.push_aligned(&mut pending, children_a, children_b, pair.depth + 1, budget);
    }
    rows
}

/// The interned keys of both trees, by node.
struct Lists<'k> {
    ids_a: &'k [u32],
    ids_b: &'k [u32],
}

impl Lists<'_> {
    /// Aligns two sibling lists and pushes the pairs so that the first one is popped first.
    fn push_aligned(
        &self,
        pending: &mut Vec<Pair>,
        list_a: &[usize],
        list_b: &[usize],
        depth: usize,
        budget: &mut Budget,
    ) {
        if list_a.is_empty() && list_b.is_empty() {
            return;
        }
        let keys_a: Vec<u32> = list_a.iter().map(|n| self.ids_a[*n]).collect();
        let keys_b: Vec<u32> = list_b.iter().map(|n| self.ids_b[*n]).collect();
        let (matches, alignment) = match exact_matches(&keys_a, &keys_b, budget) {
            Ok(matches) => (matches, Alignment::Exact),
            Err(Exhausted) => (positional_matches(&keys_a, &keys_b), Alignment::Positional),
        };
        let mut pairs = Vec::with_capacity(list_a.len().max(list_b.len()));
        let mut push = |a: Option<usize>, b: Option<usize>| {
            pairs.push(Pair {
                a: a.map(|i| list_a[i]),
                b: b.map(|j| list_b[j]),
                depth,
                alignment,
            })
        };
        // Between two matches: what only A has (removed), then what only B has (added).
        let (mut i, mut j) = (0, 0);
        for (x, y) in matches
            .into_iter()
            .chain(std::iter::once((list_a.len(), list_b.len())))
        {
            interrupts::check();
            (i..x).for_each(|i| push(Some(i), None));
            (j..y).for_each(|j| push(None, Some(j)));
            if x < list_a.len() {
                push(Some(x), Some(y));
            }
            (i, j) = (x + 1, y + 1);
        }
        pending.extend(pairs.into_iter().rev());
    }
}

/// The positions (i in a, j in b) of a longest common subsequence, in order: the matches of a
/// minimal edit script. Myers' divide and conquer on the middle snake (linear space); Err when the
/// budget runs out.
fn exact_matches(
    a: &[u32],
    b: &[u32],
    budget: &mut Budget,
) -> Result<Vec<(usize, usize)>, Exhausted> {
    // Spent by an earlier list: this one is aligned by position too, even if it needed no work.
    if budget.left == 0 {
        return Err(Exhausted);
    }
    let mut matches = Vec::new();
    // Sub-problems left to solve, last one next: (a_start, a_end, b_start, b_end). Their matches
    // come out in order because a problem's left half is solved before its right half.
    let mut todo = vec![Problem::Range(0, a.len(), 0, b.len())];
    let mut scratch = Vec::new();
    while let Some(problem) = todo.pop() {
        interrupts::check();
        let (mut a_lo, mut a_hi, mut b_lo, mut b_hi) = match problem {
            Problem::Match(x, y) => {
                matches.push((x, y));
                continue;
            }
            Problem::Range(a_lo, a_hi, b_lo, b_hi) => (a_lo, a_hi, b_lo, b_hi),
        };
        // Common start and end: matches as they are.
        while a_lo < a_hi && b_lo < b_hi && a[a_lo] == b[b_lo] {
            interrupts::check();
            matches.push((a_lo, b_lo));
            (a_lo, b_lo) = (a_lo + 1, b_lo + 1);
        }
        let mut tail = Vec::new();
        while a_lo < a_hi && b_lo < b_hi && a[a_hi - 1] == b[b_hi - 1] {
            interrupts::check();
            (a_hi, b_hi) = (a_hi - 1, b_hi - 1);
            tail.push(Problem::Match(a_hi, b_hi));
        }
        if !budget.spend((a_hi - a_lo + b_hi - b_lo) as u64) {
            return Err(Exhausted);
        }
        // Pushed in reverse: the tail's matches come out last, in order.
        todo.extend(tail);
        if a_lo == a_hi || b_lo == b_hi {
            // Only removals or only additions left: nothing more matches.
            continue;
        }
        // Both sides still differ at both ends, so they are at least 2 edits apart, and the middle
        // snake splits the problem into two with fewer edits each.
        let snake = middle_snake(&a[a_lo..a_hi], &b[b_lo..b_hi], budget, &mut scratch)?;
        let (x, y, u, v) = (
            a_lo + snake.x,
            b_lo + snake.y,
            a_lo + snake.u,
            b_lo + snake.v,
        );
        todo.push(Problem::Range(u, a_hi, v, b_hi));
        for k in (0..u - x).rev() {
            todo.push(Problem::Match(x + k, y + k));
        }
        todo.push(Problem::Range(a_lo, x, b_lo, y));
    }
    Ok(matches)
}

enum Problem {
    /// Align a[.0..1] with b[.2..3].
    Range(usize, usize, usize, usize),
    /// a[.0] and b[.1] match.
    Match(usize, usize),
}

/// The middle snake of an optimal edit path from (0, 0) to (a.len(), b.len()): equal elements
/// (x..u in a, y..v in b) on which the path crosses the middle of its edits.
struct Snake {
    x: usize,
    y: usize,
    u: usize,
    v: usize,
}

/// Myers' search from both ends at once, on diagonals k = x - y; each round one edit further. The
/// forward search keeps, per diagonal, the furthest x reached; the backward search the same in the
/// reversed sequences. Where they overlap lies the middle snake.
fn middle_snake(
    a: &[u32],
    b: &[u32],
    budget: &mut Budget,
    scratch: &mut Vec<isize>,
) -> Result<Snake, Exhausted> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let delta = n - m;
    let odd = delta % 2 != 0;
    let max_d = (n + m + 1) / 2;
    // Diagonals -max_d - 1 ..= max_d + 1, forward then backward.
    let width = (2 * max_d + 3) as usize;
    scratch.clear();
    scratch.resize(2 * width, 0);
    let (forward, backward) = scratch.split_at_mut(width);
    let at = |k: isize| (k + max_d + 1) as usize;
    for d in 0..=max_d {
        // Forward: paths of d edits from (0, 0).
        for k in (-d..=d).step_by(2) {
            interrupts::check();
            let mut x = if k == -d || (k != d && forward[at(k - 1)] < forward[at(k + 1)]) {
                forward[at(k + 1)]
            } else {
                forward[at(k - 1)] + 1
            };
            let mut y = x - k;
            let (x0, y0) = (x, y);
            while x < n && y < m && a[x as usize] == b[y as usize] {
                (x, y) = (x + 1, y + 1);
            }
            forward[at(k)] = x;
            if !budget.spend((x - x0) as u64 + 1) {
                return Err(Exhausted);
            }
            // The backward paths of d - 1 edits: on this diagonal (its own k is delta - k)?
            let back_k = delta - k;
            if odd
                && x <= n
                && y <= m
                && (-(d - 1)..=d - 1).contains(&back_k)
                && x + backward[at(back_k)] >= n
            {
                return Ok(Snake {
                    x: x0 as usize,
                    y: y0 as usize,
                    u: x as usize,
                    v: y as usize,
                });
            }
        }
        // Backward: paths of d edits from (n, m), as forward paths in the reversed sequences.
        for k in (-d..=d).step_by(2) {
            interrupts::check();
            let mut x = if k == -d || (k != d && backward[at(k - 1)] < backward[at(k + 1)]) {
                backward[at(k + 1)]
            } else {
                backward[at(k - 1)] + 1
            };
            let mut y = x - k;
            let (x0, y0) = (x, y);
            while x < n && y < m && a[(n - 1 - x) as usize] == b[(m - 1 - y) as usize] {
                (x, y) = (x + 1, y + 1);
            }
            backward[at(k)] = x;
            if !budget.spend((x - x0) as u64 + 1) {
                return Err(Exhausted);
            }
            // The forward paths of d edits: on this diagonal?
            let forward_k = delta - k;
            if !odd
                && x <= n
                && y <= m
                && (-d..=d).contains(&forward_k)
                && forward[at(forward_k)] + x >= n
            {
                return Ok(Snake {
                    x: (n - x) as usize,
                    y: (m - y) as usize,
                    u: (n - x0) as usize,
                    v: (m - y0) as usize,
                });
            }
        }
    }
    // Two paths of max_d edits from either end always meet.
    unreachable!("the forward and backward searches of Myers' algorithm always meet")
}

/// The fallback, in linear time: the common start and end match as they are, and in between the
/// i-th sibling of A matches the i-th of B when their keys are equal.
fn positional_matches(a: &[u32], b: &[u32]) -> Vec<(usize, usize)> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_mid, b_mid) = (head..a.len() - tail, head..b.len() - tail);
    let mut matches: Vec<(usize, usize)> = (0..head).map(|i| (i, i)).collect();
    matches.extend(a_mid.zip(b_mid).filter(|(i, j)| {
        interrupts::check();
        a[*i] == b[*j]
    }));
    matches.extend((0..tail).rev().map(|t| (a.len() - 1 - t, b.len() - 1 - t)));
    matches
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

    fn unlimited() -> Budget {
        Budget::new(u64::MAX)
    }

    #[test]
    fn an_extra_call_in_the_middle_does_not_shift_later_calls() {
        let (na, ka) = run(&["llm", "tool", "llm", "tool", "llm"]);
        let (nb, kb) = run(&["llm", "tool", "tool", "llm", "tool", "llm"]);
        let (ta, tb) = (Tree::build(&na), Tree::build(&nb));
        let pairs = align(&ta, &ka, &tb, &kb, &mut unlimited());
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
        assert!(pairs.iter().all(|p| p.alignment == Alignment::Exact));
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
        let pairs = align(
            &Tree::build(&na),
            &ka,
            &Tree::build(&nb),
            &kb,
            &mut unlimited(),
        );
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
        let pairs = align(
            &Tree::build(&na),
            &ka,
            &Tree::build(&nb),
            &kb,
            &mut unlimited(),
        );
        assert_eq!(describe(&pairs, &ka, &kb), vec!["-run", "-llm", "+other"]);
        let empty: Vec<&str> = Vec::new();
        let none = align(
            &Tree::build(&[]),
            &empty,
            &Tree::build(&[]),
            &empty,
            &mut unlimited(),
        );
        assert!(none.is_empty());
    }

    /// The length of a longest common subsequence, by dynamic programming: what exact_matches must
    /// find (any of the longest).
    fn lcs_length(a: &[u32], b: &[u32]) -> usize {
        let mut row = vec![0; b.len() + 1];
        for x in a {
            let mut diagonal = 0;
            for (j, y) in b.iter().enumerate() {
                let above = row[j + 1];
                row[j + 1] = if x == y {
                    diagonal + 1
                } else {
                    row[j + 1].max(row[j])
                };
                diagonal = above;
            }
        }
        row[b.len()]
    }

    #[test]
    fn exact_matches_are_a_longest_common_subsequence() {
        // Small pseudo-random sequences over few symbols: many ties, odd and even differences.
        let mut seed = 12345u64;
        let mut next = |limit: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % limit
        };
        for case in 0..3000 {
            // Mostly short lists (every corner), some longer ones (deeper divide and conquer).
            let longest = if case % 10 == 0 { 80 } else { 12 };
            let (n, m, symbols) = (next(longest) as usize, next(longest) as usize, next(6) + 1);
            let a: Vec<u32> = (0..n).map(|_| next(symbols) as u32).collect();
            let b: Vec<u32> = (0..m).map(|_| next(symbols) as u32).collect();
            let Ok(matches) = exact_matches(&a, &b, &mut unlimited()) else {
                panic!("an unlimited budget cannot run out");
            };
            assert_eq!(matches.len(), lcs_length(&a, &b), "{a:?} {b:?}");
            for pair in matches.windows(2) {
                assert!(
                    pair[0].0 < pair[1].0 && pair[0].1 < pair[1].1,
                    "{a:?} {b:?}"
                );
            }
            assert!(matches.iter().all(|(i, j)| a[*i] == b[*j]), "{a:?} {b:?}");
        }
    }

    #[test]
    fn past_the_budget_lists_are_aligned_by_position() {
        // 2,000 children in two different orders: far more comparisons than 10,000.
        let names: Vec<u32> = (0..2000).map(|i| (i * 7) % 300).collect();
        let reordered: Vec<u32> = (0..2000).map(|i| (i * 11) % 300).collect();
        let mut budget = Budget::new(10_000);
        assert!(exact_matches(&names, &reordered, &mut budget).is_err());
        assert_eq!(budget.left, 0);

        // Common start and end still match; the middle pairs by position.
        let a = [1, 2, 3, 4, 5, 9];
        let b = [1, 2, 4, 3, 5, 7, 9];
        assert_eq!(
            positional_matches(&a, &b),
            vec![(0, 0), (1, 1), (4, 4), (5, 6)]
        );

        let (na, ka) = run(&["llm", "tool", "llm"]);
        let (nb, kb) = run(&["llm", "tool", "tool", "llm"]);
        let pairs = align(
            &Tree::build(&na),
            &ka,
            &Tree::build(&nb),
            &kb,
            &mut Budget::new(0),
        );
        assert!(pairs.iter().all(|p| p.alignment == Alignment::Positional));
        assert_eq!(
            describe(&pairs, &ka, &kb),
            vec!["run=run", "llm=llm", "tool=tool", "+tool", "llm=llm"]
        );
    }
}
