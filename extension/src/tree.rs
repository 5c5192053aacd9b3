//! The shape of one trace: spans arranged as a tree, in depth-first order, on messy real data.
//!
//! Pure code over span ids and times (its loops only let PostgreSQL interrupt them, see
//! interrupts.rs), so every edge case is a unit test:
//! - **Orphans**: a span whose parent never arrived is shown at the top level (flagged), not dropped.
//! - **Cycles**: a parent chain that loops (A's parent is B, B's is A; or a span its own parent)
//!   reaches no root. The loop is broken at its earliest span, which is flagged and shown at the
//!   top level; every span appears exactly once and the walk always ends.
//! - **Duplicates**: the same span id twice (the key also holds start_time, so a buggy client can
//!   store two) keeps both rows; children hang under the earlier copy.
//! - **Deep chains**: the walk uses an explicit stack, never recursion, so a 10,000-deep chain costs
//!   what a flat one does.
//!
//! Why Rust and not a recursive CTE: a CTE walks one level per iteration and needs a path array per
//! row to order depth-first and detect cycles, which is quadratic on deep chains. Here it is one
//! hash map and one sort: O(n log n).

use crate::interrupts;
use std::collections::HashMap;

/// What the tree needs of a span. Times are microseconds (PostgreSQL's timestamptz unit).
#[derive(Clone, Debug)]
pub struct Node {
    pub span_id: [u8; 8],
    pub parent_id: Option<[u8; 8]>,
    pub start: i64,
    pub end: i64,
}

/// A trace arranged depth-first. Indexes into the input slice are "node"s; indexes into `preorder`
/// are "position"s.
#[derive(Debug, Default)]
pub struct Tree {
    /// Nodes in depth-first order, siblings by start time (then span id).
    pub preorder: Vec<usize>,
    /// Per node: its position in `preorder`.
    pub position: Vec<usize>,
    /// Per node: the parent node it hangs under (None at the top level).
    pub parent: Vec<Option<usize>>,
    /// Per node: its children, in start order.
    pub children: Vec<Vec<usize>>,
    /// Per node: 0 at the top level.
    pub depth: Vec<usize>,
    /// Per node: 1-based rank among its siblings.
    pub sibling_rank: Vec<usize>,
    /// Per node: the position just past its subtree, so its subtree is `position..subtree_end`.
    pub subtree_end: Vec<usize>,
    /// Per node: has a parent id, but no span with that id is in the trace.
    pub orphan: Vec<bool>,
    /// Per node: its parent chain loops; the loop was cut here.
    pub cycle: Vec<bool>,
}

impl Tree {
    pub fn build(nodes: &[Node]) -> Tree {
        let n = nodes.len();
        // Where a parent id points: the earliest span with that id (duplicates: the first copy).
        let mut by_id: HashMap<[u8; 8], usize> = HashMap::with_capacity(n);
        for (index, node) in nodes.iter().enumerate() {
            interrupts::check();
            by_id
                .entry(node.span_id)
                .and_modify(|kept| {
                    if (node.start, index) < (nodes[*kept].start, *kept) {
                        *kept = index;
                    }
                })
                .or_insert(index);
        }
        let mut parent: Vec<Option<usize>> = nodes
            .iter()
            .map(|node| {
                interrupts::check();
                node.parent_id.and_then(|id| by_id.get(&id).copied())
            })
            .collect();
        let orphan: Vec<bool> = nodes
            .iter()
            .zip(&parent)
            .map(|(node, found)| node.parent_id.is_some() && found.is_none())
            .collect();
        let cycle = cut_cycles(nodes, &mut parent);

        let sibling_order = |a: &usize, b: &usize| {
            (nodes[*a].start, nodes[*a].span_id, *a).cmp(&(nodes[*b].start, nodes[*b].span_id, *b))
        };
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut tops = Vec::new();
        for (index, found) in parent.iter().enumerate() {
            interrupts::check();
            match found {
                Some(p) => children[*p].push(index),
                None => tops.push(index),
            }
        }
        tops.sort_by(sibling_order);
        // A sort cannot be interrupted, but takes O(n log n) for all lists together.
        for list in &mut children {
            interrupts::check();
            list.sort_by(sibling_order);
        }

        let mut tree = Tree {
            preorder: Vec::with_capacity(n),
            position: vec![0; n],
            parent,
            children,
            depth: vec![0; n],
            sibling_rank: vec![0; n],
            subtree_end: vec![0; n],
            orphan,
            cycle,
        };
        for (rank, top) in tops.iter().enumerate() {
            tree.sibling_rank[*top] = rank + 1;
        }
        for list in &tree.children {
            interrupts::check();
            for (rank, child) in list.iter().enumerate() {
                tree.sibling_rank[*child] = rank + 1;
            }
        }
        // Depth-first with an explicit stack: (node, whether its children were pushed).
        let mut stack: Vec<(usize, bool)> = tops.iter().rev().map(|top| (*top, false)).collect();
        while let Some((node, expanded)) = stack.pop() {
            interrupts::check();
            if expanded {
                tree.subtree_end[node] = tree.preorder.len();
                continue;
            }
            tree.position[node] = tree.preorder.len();
            tree.preorder.push(node);
            tree.depth[node] = tree.parent[node].map_or(0, |p| tree.depth[p] + 1);
            stack.push((node, true));
            stack.extend(
                tree.children[node]
                    .iter()
                    .rev()
                    .map(|child| (*child, false)),
            );
        }
        tree
    }

    /// The nodes of `root`'s subtree (itself first), in depth-first order.
    pub fn subtree(&self, root: usize) -> &[usize] {
        &self.preorder[self.position[root]..self.subtree_end[root]]
    }

    /// Sibling-rank paths like "1.2.1" for the nodes of `positions` (a depth-first slice of the
    /// tree, e.g. one subtree), counted from the slice's first node. Deeper than
    /// `MAX_PATH_LEVELS`, the middle levels are shown as "…", so a row stays small however deep the
    /// chain (span_ancestors() lists the whole chain). (trace_tree writes them one by one with
    /// a PathWriter; the tests read them all.)
    #[cfg(test)]
    pub fn paths(&self, positions: &[usize]) -> Vec<String> {
        let mut writer = PathWriter::new(self, positions);
        positions
            .iter()
            .map(|node| {
                interrupts::check();
                writer.next(*node).to_string()
            })
            .collect()
    }

    /// Time of `node` not covered by any of its children (children clipped to the node's span).
    pub fn self_time(&self, nodes: &[Node], node: usize) -> i64 {
        let (start, end) = (nodes[node].start, nodes[node].end.max(nodes[node].start));
        let mut covered = 0;
        let mut reach = start;
        // Children come in start order, so one sweep merges their intervals.
        for &child in self.children_of(node) {
            interrupts::check();
            let child_start = nodes[child].start.clamp(start, end);
            let child_end = nodes[child].end.clamp(start, end);
            if child_end <= reach {
                continue;
            }
            covered += child_end - child_start.max(reach);
            reach = child_end;
        }
        end - start - covered
    }

    /// The children of `node`, in start order.
    pub fn children_of(&self, node: usize) -> impl Iterator<Item = &usize> {
        self.children[node].iter()
    }
}

pub const MAX_PATH_LEVELS: usize = 24;
const PATH_HEAD: usize = 8;

/// The paths of `Tree::paths`, one node at a time, in one buffer: a node's path is its parent's
/// and one more rank, so each is written by appending to the path of the level above (kept as the
/// buffer's prefix), not from scratch.
pub struct PathWriter<'t> {
    tree: &'t Tree,
    first: Option<usize>,
    base: usize,
    ranks: Vec<usize>,
    /// Where the path of `ranks[..=i]` ends in `text`, for the levels within MAX_PATH_LEVELS.
    ends: Vec<usize>,
    text: String,
    /// A path deeper than MAX_PATH_LEVELS, written whole.
    deep: String,
}

impl<'t> PathWriter<'t> {
    /// For the nodes of `positions`, a depth-first slice of `tree`, asked for in that order.
    pub fn new(tree: &'t Tree, positions: &[usize]) -> PathWriter<'t> {
        let first = positions.first().copied();
        PathWriter {
            tree,
            first,
            base: first.map_or(0, |node| tree.depth[node]),
            ranks: Vec::new(),
            ends: Vec::new(),
            text: String::new(),
            deep: String::new(),
        }
    }

    /// The path of `node`, the next node of the slice.
    pub fn next(&mut self, node: usize) -> &str {
        use std::fmt::Write;
        let level = self.tree.depth[node] - self.base;
        self.ranks.truncate(level);
        // A subtree's root is rank 1 of its own little tree; top-level spans of the whole trace
        // are ranked among themselves.
        let rank = if Some(node) == self.first {
            1
        } else {
            self.tree.sibling_rank[node]
        };
        self.ranks.push(rank);
        if self.ranks.len() <= MAX_PATH_LEVELS && self.ends.len() >= level {
            self.ends.truncate(level);
            self.text.truncate(self.ends.last().copied().unwrap_or(0));
            if level > 0 {
                self.text.push('.');
            }
            let _ = write!(self.text, "{rank}");
            self.ends.push(self.text.len());
            &self.text
        } else {
            self.deep.clear();
            format_path(&mut self.deep, &self.ranks);
            &self.deep
        }
    }
}

/// Writes the path of `ranks` into `out`.
fn format_path(out: &mut String, ranks: &[usize]) {
    use std::fmt::Write;
    let join = |out: &mut String, part: &[usize]| {
        for (index, rank) in part.iter().enumerate() {
            if index > 0 {
                out.push('.');
            }
            let _ = write!(out, "{rank}");
        }
    };
    if ranks.len() <= MAX_PATH_LEVELS {
        join(out, ranks);
    } else {
        let tail = MAX_PATH_LEVELS - PATH_HEAD - 1;
        join(out, &ranks[..PATH_HEAD]);
        out.push_str(".….");
        join(out, &ranks[ranks.len() - tail..]);
    }
}

/// Breaks every parent chain that loops, at the loop's earliest span (then lowest span id), by
/// removing that span's parent link. Returns which nodes were cut.
fn cut_cycles(nodes: &[Node], parent: &mut [Option<usize>]) -> Vec<bool> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        OnWalk,
        Done,
    }
    let mut mark = vec![Mark::Unseen; nodes.len()];
    let mut cut = vec![false; nodes.len()];
    let mut walk = Vec::new();
    for start in 0..nodes.len() {
        interrupts::check();
        // Follow parents until a node already settled (Done), a top-level node, or one on this
        // very walk: the last case is a loop.
        let mut current = Some(start);
        while let Some(node) = current {
            interrupts::check();
            match mark[node] {
                Mark::Done => break,
                Mark::OnWalk => {
                    let from = walk.iter().position(|n| *n == node).unwrap_or(0);
                    let looped = &walk[from..];
                    if let Some(&earliest) = looped
                        .iter()
                        .min_by_key(|n: &&usize| (nodes[**n].start, nodes[**n].span_id, **n))
                    {
                        parent[earliest] = None;
                        cut[earliest] = true;
                    }
                    break;
                }
                Mark::Unseen => {
                    mark[node] = Mark::OnWalk;
                    walk.push(node);
                    current = parent[node];
                }
            }
        }
        for node in walk.drain(..) {
            mark[node] = Mark::Done;
        }
    }
    cut
}

/// The critical path: the chain of spans that determined the trace's wall time, walking back
/// from the span that finished last. Returns (node, microseconds of the wall time it accounts
/// for itself), in the order the walk meets them (parents before the children it passed to).
///
/// At each span: the child that finished last (clipped to the span) is on the path; before that
/// child started, the child that finished last by then; and so on. A child that ends exactly when
/// the next one starts counts as before it (sequential steps: `end <= cursor`). Time not covered
/// by such a child is the span's own. The top level is treated as children of one virtual span
/// covering the whole trace, so orphans and loops cut at the top take part too.
pub fn critical_path(nodes: &[Node], tree: &Tree) -> Vec<(usize, i64)> {
    let tops: Vec<usize> = tree
        .preorder
        .iter()
        .copied()
        .filter(|n| tree.parent[*n].is_none())
        .collect();
    let mut path: Vec<(usize, i64)> = Vec::new();
    // A frame: the candidates (children, by end time descending), where the frame's window ends
    // (the cursor), where it starts, and the path entry that gets the uncovered time (None for the
    // virtual top).
    struct Frame {
        candidates: Vec<usize>,
        next: usize,
        cursor: i64,
        window_start: i64,
        owner: Option<usize>,
        picked_any: bool,
    }
    let by_end_desc = |mut list: Vec<usize>| {
        list.sort_by(|a, b| {
            (nodes[*b].end, nodes[*b].start, nodes[*b].span_id).cmp(&(
                nodes[*a].end,
                nodes[*a].start,
                nodes[*a].span_id,
            ))
        });
        list
    };
    let Some(trace_end) = tops.iter().map(|n| nodes[*n].end).max() else {
        return path;
    };
    let trace_start = tops
        .iter()
        .map(|n| nodes[*n].start)
        .min()
        .unwrap_or(trace_end);
    let mut stack = vec![Frame {
        candidates: by_end_desc(tops),
        next: 0,
        cursor: trace_end,
        window_start: trace_start,
        owner: None,
        picked_any: false,
    }];
    while let Some(frame) = stack.last_mut() {
        interrupts::check();
        // The next candidate that finished by the cursor, clipped to the window. The first pick
        // of a frame may also be a child that outlived its parent (clipped to the parent's end);
        // after that, a child ending past the cursor ran beside the one picked, so it is skipped.
        let mut chosen = None;
        while frame.next < frame.candidates.len() {
            interrupts::check();
            let candidate = frame.candidates[frame.next];
            frame.next += 1;
            let end = nodes[candidate].end.min(frame.cursor);
            let start = nodes[candidate].start.max(frame.window_start);
            let finished_by_cursor = nodes[candidate].end <= frame.cursor;
            if start <= end && (finished_by_cursor || !frame.picked_any) {
                chosen = Some((candidate, start, end));
                break;
            }
        }
        match chosen {
            Some((child, start, end)) => {
                if let Some(owner) = frame.owner {
                    path[owner].1 += frame.cursor - end;
                }
                frame.cursor = start;
                frame.picked_any = true;
                path.push((child, 0));
                let children: Vec<usize> = tree.children_of(child).copied().collect();
                stack.push(Frame {
                    candidates: by_end_desc(children),
                    next: 0,
                    cursor: end,
                    window_start: start,
                    owner: Some(path.len() - 1),
                    picked_any: false,
                });
            }
            None => {
                let done = stack.pop().unwrap_or_else(|| unreachable!());
                if let Some(owner) = done.owner {
                    path[owner].1 += done.cursor - done.window_start;
                }
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> [u8; 8] {
        [0, 0, 0, 0, 0, 0, 0, n]
    }

    fn node(span: u8, parent: Option<u8>, start: i64, end: i64) -> Node {
        Node {
            span_id: id(span),
            parent_id: parent.map(id),
            start,
            end,
        }
    }

    fn order(nodes: &[Node], tree: &Tree) -> Vec<u8> {
        tree.preorder.iter().map(|n| nodes[*n].span_id[7]).collect()
    }

    #[test]
    fn depth_first_with_siblings_by_start_time_whatever_the_input_order() {
        // Children listed before their parents, siblings out of order.
        let nodes = vec![
            node(4, Some(2), 30, 40),
            node(3, Some(1), 50, 60),
            node(2, Some(1), 20, 45),
            node(1, None, 0, 100),
            node(5, Some(2), 21, 25),
        ];
        let tree = Tree::build(&nodes);
        assert_eq!(order(&nodes, &tree), vec![1, 2, 5, 4, 3]);
        let paths = tree.paths(&tree.preorder);
        assert_eq!(paths, vec!["1", "1.1", "1.1.1", "1.1.2", "1.2"]);
        assert_eq!(tree.self_time(&nodes, 3), 100 - 25 - 10);
        assert_eq!(tree.self_time(&nodes, 2), 25 - 4 - 10);
        assert_eq!(tree.subtree(2).len(), 3);
    }

    #[test]
    fn orphans_stay_at_the_top_level() {
        let nodes = vec![node(1, None, 0, 10), node(2, Some(9), 5, 6)];
        let tree = Tree::build(&nodes);
        assert_eq!(order(&nodes, &tree), vec![1, 2]);
        assert_eq!(tree.orphan, vec![false, true]);
        assert_eq!(tree.paths(&tree.preorder), vec!["1", "2"]);
        assert_eq!(tree.depth, vec![0, 0]);
    }

    #[test]
    fn cycles_are_cut_once_and_every_span_appears_once() {
        // 1 -> 2 -> 3 -> 1, plus 4 under 3, plus a span that is its own parent.
        let nodes = vec![
            node(1, Some(3), 10, 20),
            node(2, Some(1), 11, 19),
            node(3, Some(2), 12, 18),
            node(4, Some(3), 13, 14),
            node(5, Some(5), 0, 1),
        ];
        let tree = Tree::build(&nodes);
        assert_eq!(order(&nodes, &tree), vec![5, 1, 2, 3, 4]);
        assert_eq!(tree.cycle, vec![true, false, false, false, true]);
        assert_eq!(tree.depth, vec![0, 1, 2, 3, 0]);
    }

    #[test]
    fn duplicates_keep_both_rows_and_children_use_the_first_copy() {
        let nodes = vec![
            node(1, None, 0, 10),
            node(2, Some(1), 5, 6),
            node(2, Some(1), 1, 2),
            node(3, Some(2), 1, 2),
        ];
        let tree = Tree::build(&nodes);
        assert_eq!(tree.preorder, vec![0, 2, 3, 1]);
    }

    #[test]
    fn a_10000_deep_chain_needs_no_recursion_and_keeps_paths_short() {
        let nodes: Vec<Node> = (0..10_000i64)
            .map(|i| Node {
                span_id: (i as u64 + 1).to_be_bytes(),
                parent_id: (i > 0).then(|| (i as u64).to_be_bytes()),
                start: i,
                end: 20_000 - i,
            })
            .collect();
        let tree = Tree::build(&nodes);
        assert_eq!(tree.depth[9_999], 9_999);
        let paths = tree.paths(&tree.preorder);
        assert_eq!(paths[23], ["1"; 24].join("."));
        assert_eq!(
            paths[9_999],
            format!("{}.….{}", ["1"; 8].join("."), ["1"; 15].join("."))
        );
        let path = critical_path(&nodes, &tree);
        assert_eq!(path.len(), 10_000);
        assert_eq!(path.iter().map(|(_, own)| own).sum::<i64>(), 20_000);
    }

    #[test]
    fn paths_come_back_from_deep_levels_to_shallow_ones() {
        // A 30-deep chain under span 1, then a second child of span 1 and one of span 3.
        let mut nodes: Vec<Node> = (1..=30u64)
            .map(|i| Node {
                span_id: i.to_be_bytes(),
                parent_id: (i > 1).then(|| (i - 1).to_be_bytes()),
                start: i as i64,
                end: 100,
            })
            .collect();
        for (id, parent) in [(31u64, 1u64), (32, 3)] {
            nodes.push(Node {
                span_id: id.to_be_bytes(),
                parent_id: Some(parent.to_be_bytes()),
                start: 50,
                end: 60,
            });
        }
        let tree = Tree::build(&nodes);
        let paths = tree.paths(&tree.preorder);
        let by_id = |id: u64| {
            let node = nodes.iter().position(|n| n.span_id == id.to_be_bytes());
            paths[tree.position[node.unwrap_or_default()]].clone()
        };
        assert_eq!(
            by_id(30),
            format!("{}.….{}", ["1"; 8].join("."), ["1"; 15].join("."))
        );
        assert_eq!(
            by_id(25),
            format!("{}.….{}", ["1"; 8].join("."), ["1"; 15].join("."))
        );
        assert_eq!(by_id(24), ["1"; 24].join("."));
        assert_eq!(by_id(32), "1.1.1.2");
        assert_eq!(by_id(31), "1.2");
        // A subtree's paths count from its root.
        let node3 = tree.position[2];
        let sub = tree.subtree(tree.preorder[node3]);
        let sub_paths = tree.paths(sub);
        assert_eq!(sub_paths[0], "1");
        assert_eq!(sub_paths[1], "1.1");
        assert_eq!(sub_paths.last().map(String::as_str), Some("1.2"));
    }

    #[test]
    fn critical_path_walks_back_from_the_last_finisher() {
        // root 0..100: a 0..30, b 10..50 (parallel with a), c 50..90 (starts exactly when b ends),
        // d 60..70 under c.
        let nodes = vec![
            node(1, None, 0, 100),
            node(2, Some(1), 0, 30),
            node(3, Some(1), 10, 50),
            node(4, Some(1), 50, 90),
            node(5, Some(4), 60, 70),
        ];
        let tree = Tree::build(&nodes);
        let path: Vec<(u8, i64)> = critical_path(&nodes, &tree)
            .into_iter()
            .map(|(n, own)| (nodes[n].span_id[7], own))
            .collect();
        // root owns 0..10 and 90..100; c owns 50..60 and 70..90; d 60..70; b 10..50. a is not
        // on the path: b, which ran beside it, finished later.
        assert_eq!(path, vec![(1, 20), (4, 30), (5, 10), (3, 40)]);
        assert_eq!(path.iter().map(|(_, own)| own).sum::<i64>(), 100);
    }

    #[test]
    fn critical_path_of_nothing_is_empty() {
        let tree = Tree::build(&[]);
        assert!(critical_path(&[], &tree).is_empty());
        assert!(tree.paths(&[]).is_empty());
    }
}
