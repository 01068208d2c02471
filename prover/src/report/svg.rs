//! Small inline-SVG charts for the HTML report: an overlaid histogram of two score
//! distributions with a threshold line, and a horizontal bar chart. No scripts, no external
//! resources: the report must open from a file on an offline machine.

use std::fmt::Write;

/// Escapes text for HTML/SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One series of a histogram.
#[derive(Clone, Debug)]
pub struct Series<'a> {
    /// Legend label.
    pub label: &'a str,
    /// CSS colour.
    pub colour: &'a str,
    /// The values.
    pub values: &'a [f64],
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const MARGIN: f64 = 36.0;

/// Overlaid histograms of `series` over a shared range, `bins` bins, with a dashed vertical
/// line at `threshold`. Non-finite values are skipped.
pub fn histogram(series: &[Series<'_>], bins: usize, threshold: Option<f64>, x_label: &str) -> String {
    let finite = || series.iter().flat_map(|s| s.values.iter().copied()).filter(|v| v.is_finite());
    let mut lo = finite().fold(f64::INFINITY, f64::min);
    let mut hi = finite().fold(f64::NEG_INFINITY, f64::max);
    if let Some(t) = threshold.filter(|t| t.is_finite()) {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return "<p>(no data)</p>".to_string();
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let counts: Vec<Vec<usize>> = series
        .iter()
        .map(|s| {
            let mut c = vec![0usize; bins];
            for v in s.values.iter().filter(|v| v.is_finite()) {
                let b = (((v - lo) / width) as usize).min(bins - 1);
                c[b] += 1;
            }
            c
        })
        .collect();
    let max_count = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
    let plot_w = WIDTH - 2.0 * MARGIN;
    let plot_h = HEIGHT - 2.0 * MARGIN;
    let x_of = |v: f64| MARGIN + (v - lo) / (hi - lo) * plot_w;
    let mut svg = open_svg();
    axes(&mut svg, plot_w, plot_h);
    // Series side by side within each bin, opaque: no blended colour that matches no legend entry.
    let slot = plot_w / bins as f64 / series.len().max(1) as f64;
    for (k, (s, c)) in series.iter().zip(&counts).enumerate() {
        for (b, &n) in c.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let h = n as f64 / max_count as f64 * plot_h;
            let x = x_of(lo + b as f64 * width) + k as f64 * slot;
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}: {n}</title></rect>"#,
                MARGIN + plot_h - h,
                (slot - 0.5).max(0.5),
                escape(s.colour),
                escape(s.label),
            );
        }
    }
    if let Some(t) = threshold.filter(|t| t.is_finite()) {
        let x = x_of(t);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{MARGIN}" x2="{x:.1}" y2="{:.1}" stroke="#c0392b" stroke-dasharray="5,4" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#c0392b">threshold {}</text>"##,
            MARGIN + plot_h,
            x + 4.0,
            MARGIN + 12.0,
            short(t),
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{MARGIN}" y="{:.1}" font-size="11">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text><text x="4" y="{:.1}" font-size="11">{max_count}</text>"#,
        HEIGHT - 8.0,
        short(lo),
        WIDTH - MARGIN,
        HEIGHT - 8.0,
        short(hi),
        WIDTH / 2.0,
        HEIGHT - 8.0,
        escape(x_label),
        MARGIN + 4.0,
    );
    for (i, s) in series.iter().enumerate() {
        let y = 14.0 + 14.0 * i as f64;
        let _ = write!(
            svg,
            r#"<rect class="legend" x="{:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            WIDTH - 190.0,
            y - 9.0,
            escape(s.colour),
            WIDTH - 175.0,
            y,
            escape(s.label),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Flagged transactions per window (bars, red at or over the threshold), the threshold (dashed)
/// and the window that tripped the breaker (marked TRIP); windows not confirmed are gaps.
pub fn window_chart(w: &super::WindowSeries) -> String {
    let n = w.points.len().max(1);
    let plot_w = WIDTH - 2.0 * MARGIN;
    let plot_h = HEIGHT - 2.0 * MARGIN;
    let top = w.window.max(w.threshold).max(1) as f64;
    let y_of = |v: f64| MARGIN + plot_h - v / top * plot_h;
    let slot = plot_w / n as f64;
    let mut svg = open_svg();
    axes(&mut svg, plot_w, plot_h);
    for (i, p) in w.points.iter().enumerate() {
        let x = MARGIN + i as f64 * slot;
        if let Some(f) = p.flagged {
            let over = f >= w.threshold;
            let _ = write!(
                svg,
                r#"<rect class="window" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {f} of {} flagged ({} of {} injected frauds)</title></rect>"#,
                x + 1.0,
                y_of(f as f64),
                (slot - 2.0).max(0.5),
                f as f64 / top * plot_h,
                if over { "#c0392b" } else { "#5d6d7e" },
                escape(&p.label),
                w.window,
                p.caught,
                p.injected,
            );
        }
        if p.tripped {
            let _ = write!(
                svg,
                r##"<text class="trip" x="{:.1}" y="{:.1}" font-size="11" font-weight="bold" fill="#c0392b" text-anchor="middle">TRIP</text>"##,
                x + slot / 2.0,
                y_of(p.flagged.unwrap_or(0) as f64) - 4.0,
            );
        }
    }
    let y = y_of(w.threshold as f64);
    let _ = write!(
        svg,
        r##"<line class="threshold" x1="{MARGIN}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#c0392b" stroke-dasharray="5,4" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#c0392b">threshold {} of {}</text>"##,
        MARGIN + plot_w,
        MARGIN + 4.0,
        y - 4.0,
        w.threshold,
        w.window,
    );
    let _ = write!(
        svg,
        r#"<text x="{MARGIN}" y="{:.1}" font-size="11">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">window (time)</text><text x="4" y="{:.1}" font-size="11">{}</text>"#,
        HEIGHT - 8.0,
        escape(w.points.first().map_or("", |p| p.label.as_str())),
        WIDTH - MARGIN,
        HEIGHT - 8.0,
        escape(w.points.last().map_or("", |p| p.label.as_str())),
        WIDTH / 2.0,
        HEIGHT - 8.0,
        MARGIN + 4.0,
        top,
    );
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart of `(label, value)` with `unit` after each value.
pub fn bars(items: &[(String, f64)], unit: &str, colour: &str) -> String {
    let row = 22.0;
    let height = MARGIN + row * items.len().max(1) as f64;
    let max = items.iter().map(|(_, v)| *v).filter(|v| v.is_finite()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let label_w = 170.0;
    let plot_w = WIDTH - label_w - 90.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img">"#
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let w = if value.is_finite() { value / max * plot_w } else { 0.0 };
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><rect x="{label_w}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{} {}</text>"#,
            label_w - 6.0,
            y + 12.0,
            escape(label),
            row - 6.0,
            escape(colour),
            label_w + w + 4.0,
            y + 12.0,
            short(*value),
            escape(unit),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open_svg() -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img">"#
    )
}

fn axes(svg: &mut String, plot_w: f64, plot_h: f64) {
    let _ = write!(
        svg,
        r##"<line x1="{MARGIN}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#555"/><line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{:.1}" stroke="#555"/>"##,
        MARGIN + plot_h,
        MARGIN + plot_w,
        MARGIN + plot_h,
        MARGIN + plot_h,
    );
}

/// A compact number: 3 significant digits, scientific outside [1e-3, 1e6).
pub fn short(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:.2e}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_every_finite_value_once() {
        let a = [0.0, 0.1, 0.2, 0.9, 1.0, f64::NAN];
        let svg = histogram(&[Series { label: "float", colour: "#1f77b4", values: &a }], 2, Some(0.5), "score");
        // Two bins of the range [0, 1]: 3 values below 0.5, 2 above; the NaN is skipped.
        assert!(svg.contains("<title>float: 3</title>") && svg.contains("<title>float: 2</title>"), "{svg}");
        assert!(svg.contains("threshold 0.5"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn labels_are_escaped_and_empty_data_is_said() {
        let svg = bars(&[("<b>&".to_string(), 2.0)], "s", "red");
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
        assert_eq!(histogram(&[Series { label: "x", colour: "red", values: &[] }], 4, None, "s"), "<p>(no data)</p>");
    }

    #[test]
    fn short_numbers_are_readable() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(1.5), "1.5");
        assert_eq!(short(321_557.0), "321557");
        assert_eq!(short(2.0e-5), "2.00e-5");
        assert_eq!(short(-0.125), "-0.125");
    }
}
