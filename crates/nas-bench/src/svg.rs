//! A small SVG line chart: mean curves with a ±1 std band, one colour per series.

use crate::report::Stats;
use std::fmt::Write;

const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// One series: a name and its per-x statistics (x = 1, 2, ...).
#[derive(Debug)]
pub struct Series<'a> {
    pub name: &'a str,
    pub points: &'a [Stats],
}

/// A chart of `series` with a title and axis labels; `y_floor` clips the bottom of the y
/// range so the interesting end of the curves is visible.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    y_floor: f64,
    y_top: f64,
) -> String {
    let (w, h) = (720.0, 440.0);
    let (left, right, top, bottom) = (70.0, 190.0, 40.0, 50.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let n = series
        .iter()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let x = |i: usize| left + pw * (i as f64) / ((n - 1) as f64);
    let y = |v: f64| top + ph * (1.0 - ((v - y_floor) / (y_top - y_floor)).clamp(0.0, 1.0));
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        escape(title)
    );
    // Axes and grid.
    for k in 0..=5 {
        let v = y_floor + (y_top - y_floor) * k as f64 / 5.0;
        let yy = y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/>"##,
            left + pw
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.2}</text>"#,
            left - 6.0,
            yy + 4.0
        );
    }
    for k in 0..=5 {
        let i = (n - 1) * k / 5;
        let xx = x(i);
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/>"##,
            top + ph
        );
        let _ = writeln!(
            s,
            r#"<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            top + ph + 18.0,
            i + 1
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        h - 10.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        top + ph / 2.0,
        top + ph / 2.0,
        escape(y_label)
    );
    for (k, ser) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let valid: Vec<(usize, &Stats)> = ser
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.mean.is_finite())
            .collect();
        if valid.is_empty() {
            continue;
        }
        // Band: upper edge forward, lower edge back.
        let mut band = String::new();
        for (i, p) in &valid {
            let _ = write!(band, "{:.1},{:.1} ", x(*i), y(p.mean + p.std));
        }
        for (i, p) in valid.iter().rev() {
            let _ = write!(band, "{:.1},{:.1} ", x(*i), y(p.mean - p.std));
        }
        let _ = writeln!(
            s,
            r#"<polygon points="{band}" fill="{color}" fill-opacity="0.12" stroke="none"/>"#
        );
        let line: String = valid
            .iter()
            .map(|(i, p)| format!("{:.1},{:.1} ", x(*i), y(p.mean)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>"#
        );
        let ly = top + 14.0 + 20.0 * k as f64;
        let lx = left + pw + 14.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/>"#,
            lx + 18.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}">{}</text>"#,
            lx + 24.0,
            ly + 4.0,
            escape(ser.name)
        );
    }
    s += "</svg>\n";
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
