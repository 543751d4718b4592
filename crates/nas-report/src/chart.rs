//! Charts as SVG text, drawn by plotters' SVG backend (text is left to the browser, so
//! the page needs no font files).

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

const SIZE: (u32, u32) = (640, 400);

/// One named line.
pub(crate) struct Series<'a> {
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

/// Lines against shared axes, with a legend when there are several.
pub(crate) fn lines(
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
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
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
