//! Small SVG primitives for the report's charts: linear scales, round
//! ticks, text escaping, and an element writer.
//!
//! Elements carry a `class` and no inline style: the page's stylesheet
//! gives every chart the same fonts and colours, and a print stylesheet can
//! restyle them all at once.

use std::fmt::Write;

/// Escapes text for HTML and SVG, in element content and in quoted
/// attribute values alike.
///
/// ```
/// use revpipe::report::svg::escape;
/// assert_eq!(escape("R&D <EMEA> \"new\" 'logos'"),
///            "R&amp;D &lt;EMEA&gt; &quot;new&quot; &#39;logos&#39;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not
            // allowed in XML 1.0; a scenario name should never have one.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A linear map from a domain of data values to a range of pixels.
///
/// A domain of zero width maps every value to the middle of the range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// A scale from `domain` (data) onto `range` (pixels); either may run
    /// backwards, as a y axis does.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Scale {
        Scale { domain, range }
    }

    /// The pixel position of a data value; values outside the domain map
    /// outside the range.
    pub fn at(&self, x: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if d1 == d0 {
            return (r0 + r1) / 2.0;
        }
        r0 + (x - d0) / (d1 - d0) * (r1 - r0)
    }

    /// As [`Scale::at`], clamped to the range.
    pub fn clamped(&self, x: f64) -> f64 {
        let (r0, r1) = self.range;
        self.at(x).clamp(r0.min(r1), r0.max(r1))
    }

    /// The domain.
    pub fn domain(&self) -> (f64, f64) {
        self.domain
    }
}

/// Round tick values for an axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    /// The tick values, ascending.
    pub values: Vec<f64>,
    /// The distance between ticks (1, 2, 2.5 or 5 times a power of ten).
    pub step: f64,
}

impl Ticks {
    /// About `count` round ticks spanning `lo` to `hi`, the ends rounded
    /// out to whole steps, so `lo` and `hi` always lie on the axis. An
    /// empty or backward interval is widened around `lo`.
    ///
    /// ```
    /// use revpipe::report::svg::Ticks;
    /// let t = Ticks::spanning(1_130_000.0, 3_420_000.0, 5);
    /// assert_eq!(t.step, 500_000.0);
    /// assert_eq!(t.values, [1.0e6, 1.5e6, 2.0e6, 2.5e6, 3.0e6, 3.5e6]);
    /// ```
    pub fn spanning(lo: f64, hi: f64, count: usize) -> Ticks {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo - pad, lo + pad)
        };
        let step = crate::summary::round_width((hi - lo) / count.max(1) as f64);
        let first = (lo / step + 1e-9).floor() as i64;
        let last = (hi / step - 1e-9).ceil() as i64;
        let values = (first..=last)
            .map(|k| clean(k as f64 * step, step))
            .collect();
        Ticks { values, step }
    }

    /// Round ticks inside `lo..=hi`, about `count` of them (never fewer
    /// than two where two fit), for an axis that keeps its own domain.
    ///
    /// ```
    /// use revpipe::report::svg::Ticks;
    /// let t = Ticks::inside(800_000.0, 4_400_000.0, 7);
    /// assert_eq!(t.step, 500_000.0);
    /// assert_eq!(t.values.first(), Some(&1_000_000.0));
    /// assert_eq!(t.values.last(), Some(&4_000_000.0));
    /// ```
    pub fn inside(lo: f64, hi: f64, count: usize) -> Ticks {
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            return Ticks::spanning(lo, hi, count);
        }
        let raw = (hi - lo) / count.max(1) as f64;
        let power = 10f64.powf(raw.log10().floor());
        let ticks_at = |step: f64| {
            let first = (lo / step - 1e-9).ceil() as i64;
            let last = (hi / step + 1e-9).floor() as i64;
            (first, last)
        };
        // The round step whose tick count is nearest `count`, the larger
        // step on a tie (fewer labels to crowd the axis).
        let step = [0.1, 1.0, 10.0]
            .iter()
            .flat_map(|p| [1.0, 2.0, 2.5, 5.0].map(|m| m * p * power))
            .filter(|step| {
                let (a, b) = ticks_at(*step);
                b - a + 1 >= 2
            })
            .min_by(|a, b| {
                let n = |s: f64| {
                    let (x, y) = ticks_at(s);
                    ((y - x + 1) as f64 - count as f64).abs()
                };
                n(*a).total_cmp(&n(*b)).then(b.total_cmp(a))
            })
            .unwrap_or(hi - lo);
        let (first, last) = ticks_at(step);
        let values = (first..=last)
            .map(|k| clean(k as f64 * step, step))
            .collect();
        Ticks { values, step }
    }

    /// The first and last ticks: the axis's domain.
    pub fn bounds(&self) -> (f64, f64) {
        (self.values[0], self.values[self.values.len() - 1])
    }
}

/// Rounds away the binary noise of `k * step` (0.30000000000000004).
fn clean(x: f64, step: f64) -> f64 {
    let digits = (-step.log10().floor()).max(0.0) as i32 + 2;
    let factor = 10f64.powi(digits);
    (x * factor).round() / factor
}

/// The approximate width of `text` in pixels at `size` pixels, for
/// layout (an average glyph of the sans-serif fonts the page names).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.56
}

/// Spreads positions apart so that neighbours are at least `gap` apart,
/// moving them as little as a simple push from both ends allows, and keeps
/// them within `lo..=hi` when there is room. Returns them in input order.
pub fn spread_apart(positions: &[f64], gap: f64, lo: f64, hi: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by(|a, b| positions[*a].total_cmp(&positions[*b]));
    let mut placed: Vec<f64> = order.iter().map(|&i| positions[i].clamp(lo, hi)).collect();
    for i in 1..placed.len() {
        placed[i] = placed[i].max(placed[i - 1] + gap);
    }
    // Pushed past the end: push back from it.
    if let Some(last) = placed.last_mut() {
        *last = last.min(hi);
    }
    for i in (0..placed.len().saturating_sub(1)).rev() {
        placed[i] = placed[i].min(placed[i + 1] - gap);
    }
    let mut out = vec![0.0; positions.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i] = placed[k];
    }
    out
}

/// Where a text's anchor point sits along it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at the point.
    Start,
    /// The text is centred on the point.
    Middle,
    /// The text ends at the point.
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// The plot area of a chart, inside its margins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge, in pixels.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Right edge.
    pub right: f64,
    /// Bottom edge.
    pub bottom: f64,
}

impl Frame {
    /// A scale from `domain` across the frame, left to right.
    pub fn x(&self, domain: (f64, f64)) -> Scale {
        Scale::new(domain, (self.left, self.right))
    }

    /// A scale from `domain` up the frame, bottom to top.
    pub fn y(&self, domain: (f64, f64)) -> Scale {
        Scale::new(domain, (self.bottom, self.top))
    }
}

/// Writes one `<svg>` element.
#[derive(Debug)]
pub struct Svg {
    buf: String,
}

/// Formats a coordinate: one decimal is finer than a pixel.
fn n(x: f64) -> String {
    let s = format!("{x:.1}");
    match s.strip_suffix(".0") {
        Some(whole) if whole != "-0" => whole.to_string(),
        Some(_) => "0".to_string(),
        None => s,
    }
}

impl Svg {
    /// An SVG of `width` by `height` pixels that scales to its container;
    /// `label` names it for screen readers. `class` names the chart kind.
    /// It is for inline use in HTML, whose parser puts it in the SVG
    /// namespace: the file has no `xmlns` URL.
    pub fn new(width: f64, height: f64, class: &str, label: &str) -> Svg {
        let mut buf = String::new();
        let _ = write!(
            buf,
            "<svg class=\"chart {class}\" \
             viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
             aria-label=\"{label}\">",
            w = n(width),
            h = n(height),
            label = escape(label),
        );
        Svg { buf }
    }

    /// A rectangle; negative sizes are drawn from the other corner. With a
    /// `tip`, hovering shows it.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, tip: Option<&str>) {
        let (x, w) = if w < 0.0 { (x + w, -w) } else { (x, w) };
        let (y, h) = if h < 0.0 { (y + h, -h) } else { (y, h) };
        let _ = write!(
            self.buf,
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
            n(x),
            n(y),
            n(w),
            n(h)
        );
        self.close("rect", tip);
    }

    /// A straight line.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), class: &str) {
        let _ = write!(
            self.buf,
            "<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            n(from.0),
            n(from.1),
            n(to.0),
            n(to.1)
        );
    }

    /// A line through points.
    pub fn polyline(&mut self, points: &[(f64, f64)], class: &str) {
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
            .collect();
        let _ = write!(
            self.buf,
            "<polyline class=\"{class}\" points=\"{}\"/>",
            pts.join(" ")
        );
    }

    /// A filled polygon.
    pub fn polygon(&mut self, points: &[(f64, f64)], class: &str) {
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
            .collect();
        let _ = write!(
            self.buf,
            "<polygon class=\"{class}\" points=\"{}\"/>",
            pts.join(" ")
        );
    }

    /// A circle, with an optional hover `tip`.
    pub fn circle(&mut self, at: (f64, f64), r: f64, class: &str, tip: Option<&str>) {
        let _ = write!(
            self.buf,
            "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"{}\"",
            n(at.0),
            n(at.1),
            n(r)
        );
        self.close("circle", tip);
    }

    /// Text at a point (its baseline), escaped.
    pub fn text(&mut self, at: (f64, f64), anchor: Anchor, class: &str, text: &str) {
        let _ = write!(
            self.buf,
            "<text class=\"{class}\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>",
            n(at.0),
            n(at.1),
            anchor.name(),
            escape(text)
        );
    }

    /// Text turned a quarter left (reading upwards), centred on a point.
    pub fn text_up(&mut self, at: (f64, f64), class: &str, text: &str) {
        let _ = write!(
            self.buf,
            "<text class=\"{class}\" x=\"0\" y=\"0\" text-anchor=\"middle\" \
             transform=\"translate({},{}) rotate(-90)\">{}</text>",
            n(at.0),
            n(at.1),
            escape(text)
        );
    }

    /// Opens a group of elements with a class.
    pub fn group(&mut self, class: &str) {
        let _ = write!(self.buf, "<g class=\"{class}\">");
    }

    /// Closes the last group.
    pub fn end_group(&mut self) {
        self.buf.push_str("</g>");
    }

    /// An x axis along the frame's bottom: ticks, their labels and a
    /// title below.
    pub fn x_axis(&mut self, frame: &Frame, x: &Scale, ticks: &[(f64, String)], title: &str) {
        self.group("axis x-axis");
        self.line(
            (frame.left, frame.bottom),
            (frame.right, frame.bottom),
            "domain",
        );
        for (value, label) in ticks {
            let px = x.at(*value);
            self.line((px, frame.bottom), (px, frame.bottom + 5.0), "tick");
            self.text(
                (px, frame.bottom + 18.0),
                Anchor::Middle,
                "tick-label",
                label,
            );
        }
        let mid = (frame.left + frame.right) / 2.0;
        self.text(
            (mid, frame.bottom + 38.0),
            Anchor::Middle,
            "axis-title",
            title,
        );
        self.end_group();
    }

    /// A y axis along the frame's left: light grid lines across the frame
    /// at each tick, labels, and a title reading upwards.
    pub fn y_axis(&mut self, frame: &Frame, y: &Scale, ticks: &[(f64, String)], title: &str) {
        self.group("axis y-axis");
        for (value, label) in ticks {
            let py = y.at(*value);
            self.line((frame.left, py), (frame.right, py), "grid");
            self.text(
                (frame.left - 8.0, py + 4.0),
                Anchor::End,
                "tick-label",
                label,
            );
        }
        let mid = (frame.top + frame.bottom) / 2.0;
        self.text_up((frame.left - 46.0, mid), "axis-title", title);
        self.end_group();
    }

    /// Ends the element and returns the SVG text.
    pub fn finish(mut self) -> String {
        self.buf.push_str("</svg>");
        self.buf
    }

    /// Ends the open tag of `element`: empty, or holding a hover tip.
    fn close(&mut self, element: &str, tip: Option<&str>) {
        match tip {
            Some(t) => {
                let _ = write!(self.buf, "><title>{}</title></{element}>", escape(t));
            }
            None => self.buf.push_str("/>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_ends_and_middle() {
        let x = Scale::new((0.0, 200.0), (50.0, 450.0));
        assert_eq!(x.at(0.0), 50.0);
        assert_eq!(x.at(200.0), 450.0);
        assert_eq!(x.at(50.0), 150.0);
        assert_eq!(
            x.at(-100.0),
            -150.0,
            "outside the domain, outside the range"
        );
        assert_eq!(x.clamped(-100.0), 50.0);
        let y = Scale::new((0.0, 1.0), (300.0, 20.0));
        assert_eq!(y.at(1.0), 20.0);
        assert_eq!(y.at(0.25), 230.0);
        assert_eq!(y.clamped(2.0), 20.0);
        let flat = Scale::new((5.0, 5.0), (0.0, 100.0));
        assert_eq!(flat.at(5.0), 50.0);
    }

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        let t = Ticks::spanning(0.0, 1.0, 5);
        assert_eq!(t.step, 0.2);
        assert_eq!(t.values, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let t = Ticks::spanning(0.0, 8870.0, 6);
        assert_eq!(t.step, 2000.0);
        assert_eq!(t.bounds(), (0.0, 10_000.0));
        let t = Ticks::spanning(612_000.0, 1_790_000.0, 6);
        assert_eq!(t.step, 200_000.0);
        assert_eq!(t.bounds(), (600_000.0, 1_800_000.0));
        // Already on a tick: no extra step either side.
        let t = Ticks::spanning(1.0e6, 3.0e6, 4);
        assert_eq!(t.values, [1.0e6, 1.5e6, 2.0e6, 2.5e6, 3.0e6]);
        // Decimals come out clean.
        let t = Ticks::spanning(0.1, 0.7, 6);
        assert_eq!(t.values, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    }

    #[test]
    fn ticks_inside_keep_the_domain() {
        let t = Ticks::inside(1_130_000.0, 3_420_000.0, 6);
        assert_eq!(t.step, 500_000.0);
        assert_eq!(t.values, [1.5e6, 2.0e6, 2.5e6, 3.0e6]);
        let t = Ticks::inside(0.0, 1.0, 5);
        assert_eq!(t.values, [0.0, 0.25, 0.5, 0.75, 1.0]);
        let t = Ticks::inside(0.0, 1.0, 6);
        assert_eq!(t.values, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        // A narrow domain still gets two ticks.
        let t = Ticks::inside(0.95, 1.05, 2);
        assert!(t.values.len() >= 2, "{t:?}");
        assert!(t.values.iter().all(|v| (0.95..=1.05).contains(v)), "{t:?}");
    }

    #[test]
    fn ticks_of_an_empty_interval_widen_around_it() {
        let t = Ticks::spanning(0.0, 0.0, 5);
        assert!(t.values.len() >= 2);
        let (lo, hi) = t.bounds();
        assert!(lo < 0.0 && hi > 0.0, "{t:?}");
        let t = Ticks::spanning(500_000.0, 500_000.0, 5);
        let (lo, hi) = t.bounds();
        assert!(lo < 500_000.0 && 500_000.0 < hi, "{t:?}");
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(escape("Zürich – 5€"), "Zürich – 5€");
        assert_eq!(escape("bell\u{7}"), "bell\u{FFFD}");
        let mut svg = Svg::new(10.0, 10.0, "k", "</svg><script>");
        svg.text((1.0, 2.0), Anchor::Start, "t", "<script>alert(1)</script>");
        svg.rect(0.0, 0.0, 1.0, 1.0, "r", Some("\"><b>"));
        let out = svg.finish();
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<b>"), "{out}");
        assert_eq!(out.matches("</svg>").count(), 1);
    }

    #[test]
    fn elements_are_written_closed_with_round_coordinates() {
        let mut svg = Svg::new(100.0, 50.0, "k", "label");
        svg.rect(10.0, 40.0, 5.0, -20.0, "bar", None);
        svg.circle((1.26, 2.0), 3.0, "dot", Some("tip"));
        svg.line((0.0, -0.04), (3.333, 4.0), "l");
        let out = svg.finish();
        assert!(
            out.contains(r#"<rect class="bar" x="10" y="20" width="5" height="20"/>"#),
            "{out}"
        );
        assert!(
            out.contains(
                r#"<circle class="dot" cx="1.3" cy="2" r="3"><title>tip</title></circle>"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"y1="0" x2="3.3""#), "{out}");
        assert!(out.starts_with("<svg ") && out.ends_with("</svg>"));
    }

    #[test]
    fn spreading_keeps_order_and_gaps() {
        let out = spread_apart(&[10.0, 11.0, 12.0, 100.0], 5.0, 0.0, 200.0);
        assert_eq!(out, vec![10.0, 15.0, 20.0, 100.0]);
        // Crowded at the end: pushed back inside.
        let out = spread_apart(&[99.0, 100.0], 10.0, 0.0, 100.0);
        assert_eq!(out, vec![90.0, 100.0]);
        // Input order is kept in the output.
        let out = spread_apart(&[50.0, 49.0], 4.0, 0.0, 100.0);
        assert_eq!(out, vec![53.0, 49.0]);
    }

    #[test]
    fn text_width_grows_with_length() {
        assert!(text_width("Core accounts", 12.0) > text_width("Core", 12.0));
        assert_eq!(text_width("", 12.0), 0.0);
    }
}
