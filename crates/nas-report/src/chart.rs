//! Charts as SVG text, drawn by plotters' SVG backend (text is left to the browser, so
//! the page needs no font files).

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

const SIZE: (u32, u32) = (640, 400);

/// One named line.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub name: &'a str,
    pub points: &'a [(f64, f64)],
}

/// `lo..hi` around `values` with a margin; a unit range around a single value, `0..1`
/// for none.
fn span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return 0.0..1.0;
    }
    if lo == hi {
        return lo - 1.0..hi + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    lo - pad..hi + pad
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A chart on `root` with its title, axes over `xs` and `ys` and their mesh drawn.
fn axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    xs: Range<f64>,
    ys: Range<f64>,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xs, ys)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The series' names in a box at `corner`.
fn legend<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    corner: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(corner)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// Series of at most this many points get a marker on each point.
const SHORT_SERIES: usize = 2;

/// Lines against shared axes, with a legend when there are several.
///
/// # Errors
/// What plotters reports, as text (the SVG backend writes to a string, so in practice
/// nothing).
pub fn lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series<'_>],
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let xs = span(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
        let ys = span(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
        let mut chart = axes(&root, title, x_desc, y_desc, xs, ys)?;
        for (k, s) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(s.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            // A curve of one or two points (a one-shot method's single derived trial)
            // is a dot or a short stroke: mark its points so it can be seen.
            if s.points.len() <= SHORT_SERIES {
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(err)?;
            }
        }
        if series.len() > 1 {
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One named curve with a shaded band around it: points `(x, y, spread)`, the band
/// `y - spread ..= y + spread` (a mean and its standard deviation over repeated runs).
#[derive(Debug, Clone, Copy)]
pub struct Band<'a> {
    pub name: &'a str,
    pub points: &'a [(f64, f64, f64)],
}

/// How opaque a band's shading is: light enough that overlapping bands stay readable.
const BAND_OPACITY: f64 = 0.15;

/// Curves with their bands against shared axes, with a legend when there are several.
/// Points whose `y` is not finite are left out; a spread that is not finite counts as 0.
/// `y_range` fixes the y axis (values outside are drawn at its edge), so the interesting
/// end of curves that start far below it stays readable; `None` fits it to the bands.
///
/// # Errors
/// What plotters reports, as text.
pub fn bands(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Band<'_>],
    y_range: Option<Range<f64>>,
) -> Result<String, String> {
    // Each series' drawable points, in the order of `series`.
    let curves: Vec<Vec<(f64, f64, f64)>> = series
        .iter()
        .map(|b| {
            b.points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|&(x, y, s)| (x, y, if s.is_finite() { s.abs() } else { 0.0 }))
                .collect()
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let xs = span(curves.iter().flat_map(|c| c.iter().map(|p| p.0)));
        let ys = y_range.filter(|r| r.start < r.end).unwrap_or_else(|| {
            span(
                curves
                    .iter()
                    .flat_map(|c| c.iter().flat_map(|p| [p.1 - p.2, p.1 + p.2])),
            )
        });
        let clamp = |v: f64| v.clamp(ys.start, ys.end);
        let mut chart = axes(&root, title, x_desc, y_desc, xs, ys.clone())?;
        for (k, (band, points)) in series.iter().zip(&curves).enumerate() {
            let color = Palette99::pick(k).to_rgba();
            // The band's outline: its upper edge forward, its lower edge back.
            let outline: Vec<(f64, f64)> = points
                .iter()
                .map(|p| (p.0, clamp(p.1 + p.2)))
                .chain(points.iter().rev().map(|p| (p.0, clamp(p.1 - p.2))))
                .collect();
            if !outline.is_empty() {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(BAND_OPACITY).filled(),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.0, clamp(p.1))),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(band.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        // Upper left: curves of a search's best result rise from the lower left to the
        // upper right, and the lower right is where their bands are widest.
        if curves.len() > 1 {
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Points, with a highlighted front line through some of them and, for `diagonal`, the
/// line `y = x` (on equal axes).
pub(crate) fn scatter(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    points: &[(f64, f64)],
    front: &[(f64, f64)],
    diagonal: bool,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (xs, ys) = if diagonal {
            let both = span(points.iter().flat_map(|p| [p.0, p.1]));
            (both.clone(), both)
        } else {
            (
                span(points.iter().map(|p| p.0)),
                span(points.iter().map(|p| p.1)),
            )
        };
        let corners = (xs.start.max(ys.start), xs.end.min(ys.end));
        let mut chart = axes(&root, title, x_desc, y_desc, xs, ys)?;
        let dots = BLUE.mix(0.45);
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, dots.filled())))
            .map_err(err)?
            .label("trials")
            .legend(move |(x, y)| Circle::new((x + 8, y), 3, dots.filled()));
        if !front.is_empty() {
            chart
                .draw_series(LineSeries::new(front.iter().copied(), RED.stroke_width(2)))
                .map_err(err)?
                .label("Pareto front")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        }
        if diagonal {
            let grey = BLACK.mix(0.4);
            chart
                .draw_series(LineSeries::new(
                    [(corners.0, corners.0), (corners.1, corners.1)],
                    grey,
                ))
                .map_err(err)?
                .label("test = validation")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], grey));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests fail loudly by design.

    use super::*;

    /// The `points` attributes of the elements `tag` in `svg`.
    fn shapes<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
        svg.split(&format!("<{tag} "))
            .skip(1)
            .filter_map(|p| {
                let at = p.find("points=\"")? + 8;
                Some(&p[at..at + p[at..].find('"')?])
            })
            .collect()
    }

    #[test]
    fn each_band_is_a_shaded_polygon_under_its_line() {
        let a = [(1.0, 90.0, 1.0), (2.0, 91.0, 0.5), (3.0, f64::NAN, 1.0)];
        let b = [(1.0, 89.0, f64::NAN), (2.0, 92.0, 0.0)];
        let svg = bands(
            "t",
            "x",
            "y",
            &[
                Band {
                    name: "a",
                    points: &a,
                },
                Band {
                    name: "b",
                    points: &b,
                },
            ],
            None,
        )
        .unwrap();
        let polygons = shapes(&svg, "polygon");
        assert_eq!(polygons.len(), 2, "{svg}");
        // Two finite points each: an outline of four corners.
        assert!(polygons.iter().all(|p| p.split_whitespace().count() == 4));
        let lines: Vec<&str> = shapes(&svg, "polyline")
            .into_iter()
            .filter(|p| p.split_whitespace().count() == 2)
            .collect();
        assert!(lines.len() >= 2, "{svg}");
        assert!(svg.contains("\na\n") && svg.contains("\nb\n"), "a legend");
    }

    #[test]
    fn a_fixed_y_range_draws_values_outside_it_at_its_edge() {
        let low = [(1.0, 10.0, 0.0), (2.0, 95.0, 0.0)];
        let fixed = bands(
            "t",
            "x",
            "y",
            &[Band {
                name: "a",
                points: &low,
            }],
            Some(90.0..100.0),
        )
        .unwrap();
        let fitted = bands(
            "t",
            "x",
            "y",
            &[Band {
                name: "a",
                points: &low,
            }],
            None,
        )
        .unwrap();
        assert_ne!(fixed, fitted);
        // The y axis is labelled from 90, not from 10.
        assert!(
            !fixed.contains("\n20.0\n") && fixed.contains("\n92.0\n"),
            "{fixed}"
        );
        assert!(fitted.contains("\n20.0\n"), "{fitted}");
    }
}
