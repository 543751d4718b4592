//! Pareto utilities for multi-objective search. Every point is a vector of scores where
//! larger is better (turn minimized objectives with [`Goal::as_maximized`](crate::trial::Goal::as_maximized)).

/// `true` when `a` is at least as good as `b` everywhere and better somewhere.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut strictly = false;
    for (x, y) in a.iter().zip(b) {
        if x < y {
            return false;
        }
        if x > y {
            strictly = true;
        }
    }
    strictly
}

/// Non-dominated sorting (Deb et al. 2002): the indices of `points` in fronts, the first
/// front being the non-dominated points. Within a front, indices are ascending.
pub fn non_dominated_sort(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let n = points.len();
    let mut dominated_by_count = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in (i + 1)..n {
            if dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
                dominated_by_count[j] += 1;
            } else if dominates(&points[j], &points[i]) {
                dominates_list[j].push(i);
                dominated_by_count[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by_count[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominates_list[i] {
                dominated_by_count[j] -= 1;
                if dominated_by_count[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(current);
        current = next;
    }
    fronts
}

/// The indices of the non-dominated points.
pub fn pareto_front(points: &[Vec<f64>]) -> Vec<usize> {
    non_dominated_sort(points)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Crowding distance (NSGA-II) of each point of one front: larger means more isolated.
/// The extreme points of each objective get infinity.
pub fn crowding_distance(front: &[Vec<f64>]) -> Vec<f64> {
    let n = front.len();
    let mut distance = vec![0.0; n];
    if n == 0 {
        return distance;
    }
    let dims = front[0].len();
    // `m` indexes objectives (columns), not the points clippy sees being indexed.
    #[allow(clippy::needless_range_loop)]
    for m in 0..dims {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| front[a][m].total_cmp(&front[b][m]));
        let lo = front[order[0]][m];
        let hi = front[order[n - 1]][m];
        distance[order[0]] = f64::INFINITY;
        distance[order[n - 1]] = f64::INFINITY;
        if hi > lo {
            for k in 1..n.saturating_sub(1) {
                distance[order[k]] += (front[order[k + 1]][m] - front[order[k - 1]][m]) / (hi - lo);
            }
        }
    }
    distance
}

/// The hypervolume dominated by `points` and bounded below by `reference` (larger is
/// better). Points that do not dominate the reference add nothing. Exact: a sweep in two
/// dimensions, slicing along the last objective above that.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let pts: Vec<Vec<f64>> = points
        .iter()
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x > r))
        .cloned()
        .collect();
    hv(pts, reference)
}

fn hv(mut pts: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    let d = reference.len();
    if pts.is_empty() {
        return 0.0;
    }
    if d == 1 {
        return pts.iter().map(|p| p[0] - reference[0]).fold(0.0, f64::max);
    }
    if d == 2 {
        // Sort by the first objective descending; each point adds the strip of the second
        // objective above the best seen so far.
        pts.sort_by(|a, b| b[0].total_cmp(&a[0]));
        let mut area = 0.0;
        let mut best_y = reference[1];
        for p in &pts {
            if p[1] > best_y {
                area += (p[0] - reference[0]) * (p[1] - best_y);
                best_y = p[1];
            }
        }
        return area;
    }
    // Slice along the last objective: between consecutive levels, the volume is the
    // (d-1)-dimensional hypervolume of the points reaching that level times the height.
    let last = d - 1;
    pts.sort_by(|a, b| b[last].total_cmp(&a[last]));
    let mut volume = 0.0;
    for k in 0..pts.len() {
        let top = pts[k][last];
        let bottom = if k + 1 < pts.len() {
            pts[k + 1][last]
        } else {
            reference[last]
        };
        if top > bottom {
            let slice: Vec<Vec<f64>> = pts[..=k].iter().map(|p| p[..last].to_vec()).collect();
            volume += hv(slice, &reference[..last]) * (top - bottom);
        }
    }
    volume
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_into_fronts() {
        let pts = vec![
            vec![1.0, 1.0],
            vec![2.0, 0.5],
            vec![0.5, 0.5],
            vec![0.0, 2.0],
        ];
        let fronts = non_dominated_sort(&pts);
        assert_eq!(fronts, vec![vec![0, 1, 3], vec![2]]);
        assert_eq!(pareto_front(&pts), vec![0, 1, 3]);
    }

    #[test]
    fn hypervolume_2d_by_hand() {
        let pts = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]];
        // Staircase of three 1-wide steps: 3 + 2 + 1.
        assert_eq!(hypervolume(&pts, &[0.0, 0.0]), 6.0);
        // A dominated point adds nothing.
        let mut more = pts.clone();
        more.push(vec![1.0, 1.0]);
        assert_eq!(hypervolume(&more, &[0.0, 0.0]), 6.0);
    }

    #[test]
    fn hypervolume_3d_matches_inclusion_exclusion() {
        let pts = vec![vec![2.0, 1.0, 1.0], vec![1.0, 2.0, 1.0]];
        // Two boxes of volume 2 overlapping in a unit cube.
        assert!((hypervolume(&pts, &[0.0, 0.0, 0.0]) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn crowding_extremes_are_infinite() {
        let front = vec![vec![0.0, 3.0], vec![1.0, 2.0], vec![3.0, 0.0]];
        let d = crowding_distance(&front);
        assert!(d[0].is_infinite() && d[2].is_infinite());
        assert!((d[1] - 2.0).abs() < 1e-12);
    }
}
