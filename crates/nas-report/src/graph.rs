//! An architecture's graph ([`ArchGraph`]) as SVG, drawn by plotters: nodes as boxes in
//! columns by their depth, edges as arrows labelled with their operation.
//!
//! The layout is the simple one a cell needs: a node's column is the longest path to it,
//! nodes of a column are stacked in order, and an edge that skips columns (or joins a
//! column to itself) bows above or below the nodes on its own track (see [`arrows`]).

use nas_core::drawing::ArchGraph;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const COLUMN: f64 = 240.0;
const ROW: f64 = 70.0;
const BOX: (f64, f64) = (104.0, 28.0);
const MARGIN: f64 = 24.0;
/// Pixels a character of a label takes, for sizing the canvas. (plotters draws a font
/// of size 15 at 12 pixels.)
const CHAR: f64 = 6.8;

/// Where each node goes: its column (longest path from a source) and its row there.
fn positions(graph: &ArchGraph) -> Vec<(f64, f64)> {
    let n = graph.nodes.len();
    let mut column = vec![0usize; n];
    // Edges go forward, so one pass in node order settles every column.
    for to in 0..n {
        for e in graph.edges.iter().filter(|e| e.to == to && e.from < to) {
            column[to] = column[to].max(column[e.from] + 1);
        }
    }
    let mut filled = vec![0usize; n + 1];
    column
        .iter()
        .map(|&c| {
            let row = filled[c];
            filled[c] += 1;
            (c as f64 * COLUMN, row as f64 * ROW)
        })
        .collect()
}

/// Points along the edge from `a` to `b`, bowed by `bow` pixels to the left of its
/// direction (a quadratic Bézier curve through a control point off its middle).
fn curve(a: (f64, f64), b: (f64, f64), bow: f64) -> Vec<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = dx.hypot(dy).max(1.0);
    let control = (
        (a.0 + b.0) / 2.0 + bow * dy / length,
        (a.1 + b.1) / 2.0 - bow * dx / length,
    );
    (0..=16)
        .map(|k| {
            let t = f64::from(k) / 16.0;
            let u = 1.0 - t;
            (
                u * u * a.0 + 2.0 * u * t * control.0 + t * t * b.0,
                u * u * a.1 + 2.0 * u * t * control.1 + t * t * b.1,
            )
        })
        .collect()
}

/// One edge's geometry: its curve, its label and where it goes, and whether it bows
/// below.
struct Arrow<'a> {
    points: Vec<(f64, f64)>,
    label: &'a str,
    label_at: (f64, f64),
    below: bool,
}

/// Pixels between the tracks of edges that bow over the same columns.
const TRACK: f64 = 26.0;

/// Each edge's curve. An edge between neighbouring columns is straight. One that skips
/// columns bows above or below the nodes on a track: the side where fewer bowed edges
/// already cover its columns, one track further out than the outermost of them, so bowed
/// edges and their labels do not lie on each other.
fn arrows<'a>(graph: &'a ArchGraph, at: &[(f64, f64)]) -> Vec<Arrow<'a>> {
    let half = BOX.0 / 2.0;
    // Per side, the bowed edges placed so far: (first column, last column, track).
    let mut sides: [Vec<(f64, f64, u32)>; 2] = [Vec::new(), Vec::new()];
    graph
        .edges
        .iter()
        .filter_map(|e| {
            let (a, b) = (*at.get(e.from)?, *at.get(e.to)?);
            let span = ((b.0 - a.0) / COLUMN).round();
            let start = (a.0 + half, a.1);
            let end = (b.0 - half, b.1);
            let skips = span > 1.0 || (a.1 == b.1 && span < 1.0);
            if !skips {
                let points = curve(start, end, 0.0);
                // A slanted edge is labelled a third of the way along: edges that cross
                // between two columns are apart there, where their middles meet.
                let along = if a.1 == b.1 { 2 } else { 3 };
                let label_at = points[points.len() / along];
                return Some(Arrow {
                    points,
                    label: &e.label,
                    label_at,
                    below: false,
                });
            }
            let (lo, hi) = (a.0.min(b.0), a.0.max(b.0));
            let track = |placed: &[(f64, f64, u32)]| {
                1 + placed
                    .iter()
                    .filter(|p| p.0 < hi && lo < p.1)
                    .map(|p| p.2)
                    .max()
                    .unwrap_or(0)
            };
            let (up, down) = (track(&sides[0]), track(&sides[1]));
            let below = down < up;
            let level = if below { down } else { up };
            sides[usize::from(below)].push((lo, hi, level));
            // A quadratic curve reaches half its control point's offset; the top of the
            // nodes is half a box above their centre line.
            let offset = BOX.1 / 2.0 + TRACK * f64::from(level);
            let bow = if below { -2.0 * offset } else { 2.0 * offset };
            let points = curve(start, end, bow);
            let label_at = points[points.len() / 2];
            Some(Arrow {
                points,
                label: &e.label,
                label_at,
                below,
            })
        })
        .collect()
}

/// The arrowhead at the end of `points`, along its last segment.
fn head(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (Some(&b), Some(&a)) = (points.last(), points.get(points.len().saturating_sub(3))) else {
        return Vec::new();
    };
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = dx.hypot(dy).max(1e-9);
    let (ux, uy) = (dx / length, dy / length);
    vec![
        b,
        (b.0 - 8.0 * ux + 4.0 * uy, b.1 - 8.0 * uy - 4.0 * ux),
        (b.0 - 8.0 * ux - 4.0 * uy, b.1 - 8.0 * uy + 4.0 * ux),
    ]
}

/// `[left, top, right, bottom]` of the drawing: node boxes, curves, labels and the title
/// above them all.
fn extent(at: &[(f64, f64)], arrows: &[Arrow<'_>]) -> [f64; 4] {
    let (mut x0, mut y0, mut x1, mut y1) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for &(x, y) in at {
        x0 = x0.min(x - BOX.0 / 2.0);
        x1 = x1.max(x + BOX.0 / 2.0);
        y0 = y0.min(y - BOX.1 / 2.0);
        y1 = y1.max(y + BOX.1 / 2.0);
    }
    for arrow in arrows {
        for &(x, y) in &arrow.points {
            y0 = y0.min(y);
            y1 = y1.max(y);
            x1 = x1.max(x);
        }
        let half = CHAR * arrow.label.chars().count() as f64 / 2.0;
        x0 = x0.min(arrow.label_at.0 - half);
        x1 = x1.max(arrow.label_at.0 + half);
        y0 = y0.min(arrow.label_at.1 - 16.0);
        y1 = y1.max(arrow.label_at.1 + 16.0);
    }
    [x0, y0 - 22.0, x1, y1]
}

/// `graph` as an SVG document.
///
/// # Errors
/// plotters' message when drawing fails.
pub fn svg(graph: &ArchGraph) -> Result<String, String> {
    let at = positions(graph);
    let arrows = arrows(graph, &at);
    let [x0, y0, x1, y1] = extent(&at, &arrows);
    let shift = |(x, y): (f64, f64)| ((x - x0 + MARGIN) as i32, (y - y0 + MARGIN) as i32);
    let size = (
        (x1 - x0 + 2.0 * MARGIN).ceil() as u32,
        (y1 - y0 + 2.0 * MARGIN).ceil() as u32,
    );
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let centered = Pos::new(HPos::Center, VPos::Center);
        let title =
            TextStyle::from(("sans-serif", 17).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
        root.draw(&Text::new(graph.title.clone(), (8, 6), title))
            .map_err(|e| e.to_string())?;
        let line = RGBColor(90, 90, 90);
        let label_style = |below: bool| {
            TextStyle::from(("sans-serif", 15).into_font())
                .color(&RGBColor(150, 30, 20))
                .pos(Pos::new(
                    HPos::Center,
                    if below { VPos::Top } else { VPos::Bottom },
                ))
        };
        for arrow in &arrows {
            let points: Vec<(i32, i32)> = arrow.points.iter().map(|&p| shift(p)).collect();
            root.draw(&PathElement::new(points, line.stroke_width(1)))
                .map_err(|e| e.to_string())?;
            let tip: Vec<(i32, i32)> = head(&arrow.points).into_iter().map(shift).collect();
            root.draw(&Polygon::new(tip, line.filled()))
                .map_err(|e| e.to_string())?;
            if !arrow.label.is_empty() {
                let (x, y) = shift(arrow.label_at);
                let y = if arrow.below { y + 2 } else { y - 2 };
                root.draw(&Text::new(arrow.label, (x, y), label_style(arrow.below)))
                    .map_err(|e| e.to_string())?;
            }
        }
        let node_style = TextStyle::from(("sans-serif", 15).into_font()).pos(centered);
        for (node, &(x, y)) in graph.nodes.iter().zip(&at) {
            let corner = shift((x - BOX.0 / 2.0, y - BOX.1 / 2.0));
            let other = shift((x + BOX.0 / 2.0, y + BOX.1 / 2.0));
            root.draw(&Rectangle::new(
                [corner, other],
                RGBColor(235, 242, 250).filled(),
            ))
            .map_err(|e| e.to_string())?;
            root.draw(&Rectangle::new([corner, other], RGBColor(60, 90, 140)))
                .map_err(|e| e.to_string())?;
            root.draw(&Text::new(
                node.label.clone(),
                shift((x, y)),
                node_style.clone(),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_and_edge_is_drawn_with_its_label() {
        let mut g = ArchGraph::new("cell", ["input", "node 1", "output"].map(str::to_string));
        g.edge(0, 1, "nor_conv_3x3");
        g.edge(1, 2, "skip_connect");
        g.edge(0, 2, "avg_pool_3x3");
        let svg = svg(&g).unwrap();
        assert_eq!(svg.matches("<polyline").count(), 3, "{svg}");
        for label in [
            "input",
            "node 1",
            "output",
            "nor_conv_3x3",
            "skip_connect",
            "avg_pool_3x3",
        ] {
            assert!(
                svg.contains(&format!(">\n{label}\n<")),
                "{label} missing: {svg}"
            );
        }
    }

    #[test]
    fn a_column_skipping_edge_bows_and_a_neighbouring_one_is_straight() {
        let a = curve((0.0, 0.0), (100.0, 0.0), 0.0);
        assert!(a.iter().all(|p| p.1 == 0.0));
        let b = curve((0.0, 0.0), (100.0, 0.0), 30.0);
        assert!(b[8].1 < -10.0, "{:?}", b[8]);
    }
}
