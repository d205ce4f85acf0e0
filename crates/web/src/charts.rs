//! Charts drawn on the server as SVG: no JavaScript, nothing loaded from the
//! internet. Every function here is pure: data and already translated words
//! in, one `<svg>` string out. Every piece of text is escaped; every chart
//! has a `<title>` and a `<desc>` for screen readers and scales to the width
//! of its container through its `viewBox` (readable on a phone).
//!
//! The words (titles, legends, "no data") come from the caller, already in
//! the reader's language: this module knows no locale.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Escapes text for SVG/XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Shortens a label to `max` characters, ending with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Short forms of labels for display: words that most labels share at the
/// start or the end ("Қазақстан Республикасы …", "… Республики Казахстан",
/// "… of the Republic of Kazakhstan") are dropped from the labels that carry
/// them (affixes of two to five words), so that what tells them apart is
/// what shows. The full labels stay
/// in the tooltips.
pub fn short_labels(labels: &[String]) -> Vec<String> {
    let words: Vec<Vec<&str>> = labels.iter().map(|label| label.split_whitespace().collect()).collect();
    let needed = (labels.len() * 2).div_ceil(5).max(2);
    let most_common = |affix: &dyn Fn(&[&str], usize) -> Option<String>| {
        for k in (2..=5).rev() {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for w in &words {
                if let Some(a) = affix(w, k) {
                    *counts.entry(a).or_insert(0) += 1;
                }
            }
            if let Some((a, count)) = counts.into_iter().max_by_key(|(_, count)| *count) {
                if count >= needed {
                    return Some((a, k));
                }
            }
        }
        None
    };
    // Only from labels with at least two words left over.
    let prefix = most_common(&|w: &[&str], k| (w.len() >= k + 2).then(|| w[..k].join(" ")));
    let suffix = most_common(&|w: &[&str], k| (w.len() >= k + 2).then(|| w[w.len() - k..].join(" ")));
    words
        .iter()
        .zip(labels)
        .map(|(w, label)| {
            let mut start = 0;
            let mut end = w.len();
            // The longer shared affix goes first; the other only if two
            // words would still be left.
            let strip_prefix = |start: &mut usize, end: usize| {
                if let Some((p, k)) = &prefix {
                    if end - *start >= k + 2 && w[*start..*start + k].join(" ") == *p {
                        *start += k;
                    }
                }
            };
            let strip_suffix = |start: usize, end: &mut usize| {
                if let Some((x, k)) = &suffix {
                    if *end - start >= k + 2 && w[*end - k..*end].join(" ") == *x {
                        *end -= k;
                    }
                }
            };
            let prefix_len = prefix.as_ref().map_or(0, |(_, k)| *k);
            let suffix_len = suffix.as_ref().map_or(0, |(_, k)| *k);
            if suffix_len > prefix_len {
                strip_suffix(start, &mut end);
                strip_prefix(&mut start, end);
            } else {
                strip_prefix(&mut start, end);
                strip_suffix(start, &mut end);
            }
            if start == 0 && end == w.len() {
                label.clone()
            } else {
                w[start..end].join(" ")
            }
        })
        .collect()
}

/// Splits a label into at most two lines of about `max` characters at
/// spaces; the second line is shortened with `…` when the label is longer.
fn two_lines(text: &str, max: usize) -> Vec<String> {
    if text.chars().count() <= max {
        return vec![text.to_owned()];
    }
    let mut first = String::new();
    let mut words = text.split(' ').peekable();
    while let Some(word) = words.peek() {
        let len = first.chars().count() + usize::from(!first.is_empty()) + word.chars().count();
        if len > max && !first.is_empty() {
            break;
        }
        if !first.is_empty() {
            first.push(' ');
        }
        first.push_str(word);
        words.next();
    }
    let rest: Vec<&str> = words.collect();
    let first = shorten(&first, max);
    if rest.is_empty() {
        vec![first]
    } else {
        vec![first, shorten(&rest.join(" "), max)]
    }
}

const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif";

fn open_svg(out: &mut String, class: &str, width: u32, height: u32, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart {class}\" viewBox=\"0 0 {width} {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" aria-labelledby=\"{class}-title {class}-desc\" \
         font-family=\"{FONT}\" font-size=\"13\">\
         <title id=\"{class}-title\">{}</title><desc id=\"{class}-desc\">{}</desc>",
        escape(title),
        escape(desc),
    );
}

/// The SVG shown when a chart has nothing to draw: says so in words.
pub fn no_data(class: &str, title: &str, message: &str) -> String {
    let mut out = String::new();
    open_svg(&mut out, class, 480, 120, title, message);
    let _ = write!(
        out,
        "<rect class=\"no-data\" x=\"1\" y=\"1\" width=\"478\" height=\"118\" rx=\"6\" fill=\"#f6f6f6\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\
         <text class=\"no-data\" x=\"240\" y=\"66\" text-anchor=\"middle\" fill=\"#333\" font-size=\"16\">{}</text></svg>",
        escape(message)
    );
    out
}

// ---------------------------------------------------------------------------
// (a) The forward graph as a heat-map matrix.

/// Words of the forward matrix, in the reader's language.
#[derive(Clone, Debug)]
pub struct HeatmapText<'a> {
    /// The chart's title, e.g. "Forwards between agencies".
    pub title: &'a str,
    /// What a row is, e.g. "from".
    pub rows: &'a str,
    /// What a column is, e.g. "to".
    pub columns: &'a str,
    /// What a count counts, e.g. "forwards".
    pub unit: &'a str,
    /// The legend's heading, e.g. "Forwards".
    pub legend: &'a str,
    /// Shown instead of the chart when there is nothing to draw.
    pub no_data: &'a str,
}

/// Colours of the heat map (sequential blues, readable in grey scale); index
/// 0 is "none".
const HEAT: [&str; 6] = ["#f2f2f2", "#c6dbef", "#9ecae1", "#6baed6", "#2171b5", "#08306b"];

/// Upper bounds of the non-empty classes of the colour scale for counts up
/// to `max`, on a logarithmic scale (a few hot pairs must not wash out the
/// rest), strictly increasing, the last equal to `max`.
fn heat_classes(max: u64) -> Vec<u64> {
    let classes = HEAT.len() - 1;
    let mut bounds: Vec<u64> = Vec::with_capacity(classes);
    for k in 1..=classes {
        let bound = (max as f64).powf(k as f64 / classes as f64).ceil() as u64;
        let bound = bound.clamp(1, max.max(1));
        if bounds.last().is_none_or(|last| bound > *last) {
            bounds.push(bound);
        }
    }
    if let Some(last) = bounds.last_mut() {
        *last = max.max(1);
    }
    bounds
}

/// The colour class of a count: 0 for none, 1.. for the classes of `bounds`.
fn heat_class(count: u64, bounds: &[u64]) -> usize {
    if count == 0 {
        return 0;
    }
    let index = bounds.iter().position(|bound| count <= *bound).unwrap_or(bounds.len().saturating_sub(1));
    // Spread few classes over the whole palette so that the darkest colour
    // always means "the most".
    let classes = HEAT.len() - 1;
    if bounds.len() <= 1 {
        classes
    } else {
        1 + index * (classes - 1) / (bounds.len() - 1)
    }
}

/// The forward graph between agencies as a matrix: rows are the senders,
/// columns the receivers, each cell coloured by the number of forwards, with
/// the count written in it and a `<title>` naming both agencies.
///
/// `agencies` gives the order and the shown label of each agency id; ids in
/// `edges` that it does not list are appended, labelled by their id. Edges
/// with the same pair are summed.
pub fn forward_heatmap(edges: &[(String, String, u64)], agencies: &[(String, String)], text: &HeatmapText) -> String {
    let edges: Vec<&(String, String, u64)> = edges.iter().filter(|(_, _, count)| *count > 0).collect();
    if edges.is_empty() {
        return no_data("forward-heatmap", text.title, text.no_data);
    }
    let mut order: Vec<(String, String)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for (from, to, _) in &edges {
        used.insert(from);
        used.insert(to);
    }
    for (id, label) in agencies {
        if used.contains(id.as_str()) && !index.contains_key(id) {
            index.insert(id.clone(), order.len());
            order.push((id.clone(), label.clone()));
        }
    }
    for id in used {
        if !index.contains_key(id) {
            index.insert(id.to_owned(), order.len());
            order.push((id.to_owned(), id.to_owned()));
        }
    }
    let n = order.len();
    let shown = short_labels(&order.iter().map(|(_, label)| label.clone()).collect::<Vec<_>>());
    let mut matrix = vec![0u64; n * n];
    for (from, to, count) in &edges {
        if let (Some(&row), Some(&column)) = (index.get(from), index.get(to)) {
            matrix[row * n + column] = matrix[row * n + column].saturating_add(*count);
        }
    }
    let max = matrix.iter().copied().max().unwrap_or(0);
    let total: u64 = matrix.iter().sum();
    let bounds = heat_classes(max);

    const CELL: u32 = 36;
    // Room for a label of LABEL_CHARS characters at 12 px (Cyrillic
    // included) left of the rows and, rotated, above the columns.
    const LEFT: u32 = 12 + 8 * LABEL_CHARS as u32;
    const TOP: u32 = 40 + 6 * LABEL_CHARS as u32;
    const LABEL_CHARS: usize = 24;
    let size = CELL * n as u32;
    let legend_top = TOP + size + 36;
    let legend_rows = 1 + bounds.len() as u32;
    let width = (LEFT + size + 4 * LABEL_CHARS as u32 + 8).max(LEFT + 260);
    let height = legend_top + 24 + legend_rows * 22 + 8;

    let mut out = String::new();
    let desc = format!("{} → {}: {} {} ({} × {})", text.rows, text.columns, total, text.unit, n, n);
    open_svg(&mut out, "forward-heatmap", width, height, text.title, &desc);
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"18\" font-weight=\"600\" font-size=\"15\">{}</text>",
        escape(&format!("{} ↓ · {} →", text.rows, text.columns))
    );
    // Column labels, rotated, above the matrix.
    for (column, (_, label)) in order.iter().enumerate() {
        let x = LEFT + column as u32 * CELL + CELL / 2 + 4;
        let _ = write!(
            out,
            "<text class=\"column-label\" font-size=\"12\" transform=\"translate({x},{y}) rotate(-55)\">{}<title>{}</title></text>",
            escape(&shorten(&shown[column], LABEL_CHARS)),
            escape(label),
            y = TOP - 6,
        );
    }
    for (row, (_, from_label)) in order.iter().enumerate() {
        let y = TOP + row as u32 * CELL;
        let _ = write!(
            out,
            "<text class=\"row-label\" font-size=\"12\" x=\"{x}\" y=\"{ty}\" text-anchor=\"end\">{}<title>{}</title></text>",
            escape(&shorten(&shown[row], LABEL_CHARS)),
            escape(from_label),
            x = LEFT - 8,
            ty = y + CELL / 2 + 5,
        );
        for (column, (_, to_label)) in order.iter().enumerate() {
            let count = matrix[row * n + column];
            let class = heat_class(count, &bounds);
            let x = LEFT + column as u32 * CELL;
            let _ = write!(
                out,
                "<g class=\"cell\"><rect class=\"cell\" x=\"{x}\" y=\"{y}\" width=\"{CELL}\" height=\"{CELL}\" fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"1\"><title>{title}</title></rect>",
                fill = HEAT[class],
                title = escape(&format!("{from_label} → {to_label}: {count} {}", text.unit)),
            );
            if count > 0 {
                let _ = write!(
                    out,
                    "<text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" font-size=\"{font}\" fill=\"{color}\" aria-hidden=\"true\">{count}</text>",
                    cx = x + CELL / 2,
                    cy = y + CELL / 2 + 4,
                    font = if count >= 1000 { 9 } else { 12 },
                    color = if class >= 3 { "#fff" } else { "#111" },
                );
            }
            out.push_str("</g>");
        }
    }
    // The diagonal (an agency forwarding to itself) is impossible: outline it.
    let _ = write!(
        out,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{size}\" height=\"{size}\" fill=\"none\" stroke=\"#666\" stroke-width=\"1\"/>"
    );
    // Legend: one swatch per class with its range.
    let _ = write!(
        out,
        "<g class=\"legend\"><text x=\"{LEFT}\" y=\"{legend_top}\" font-weight=\"600\">{}</text>",
        escape(text.legend)
    );
    let mut lower = 0u64;
    let mut swatches: Vec<(usize, String)> = vec![(0, "0".to_owned())];
    for bound in &bounds {
        let from = lower + 1;
        let range = if from == *bound { format!("{bound}") } else { format!("{from}–{bound}") };
        swatches.push((heat_class(*bound, &bounds), range));
        lower = *bound;
    }
    for (i, (class, range)) in swatches.iter().enumerate() {
        let y = legend_top + 12 + i as u32 * 22;
        let _ = write!(
            out,
            "<rect class=\"swatch\" x=\"{LEFT}\" y=\"{y}\" width=\"28\" height=\"16\" fill=\"{}\" stroke=\"#999\"/>\
             <text x=\"{tx}\" y=\"{ty}\">{}</text>",
            HEAT[*class],
            escape(range),
            tx = LEFT + 36,
            ty = y + 13,
        );
    }
    out.push_str("</g></svg>");
    out
}

// ---------------------------------------------------------------------------
// (b) Trends: appeals by month per category or region.

/// How a trend is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrendStyle {
    /// One line per series.
    Lines,
    /// Grouped bars: one group per month, one bar per series.
    Bars,
}

/// Words of a trend chart, in the reader's language.
#[derive(Clone, Debug)]
pub struct TrendText<'a> {
    /// e.g. "Appeals by month and category".
    pub title: &'a str,
    /// What the values count, e.g. "appeals".
    pub unit: &'a str,
    /// Shown instead of the chart when there is nothing to draw.
    pub no_data: &'a str,
}

/// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const SERIES: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];

/// A "nice" axis maximum and step (1, 2 or 5 × 10^k) for values up to `max`.
fn nice_axis(max: u64) -> (u64, u64) {
    if max == 0 {
        return (1, 1);
    }
    let rough = (max as f64 / 5.0).max(1.0);
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|candidate| *candidate >= rough)
        .unwrap_or(10.0 * magnitude)
        .max(1.0) as u64;
    let top = max.div_ceil(step) * step;
    (top, step)
}

/// Values by month for each series (a category or a region): `series` is
/// `(label, [(month, value)])` with months as sortable strings
/// (`YYYY-MM`). Months missing from a series count as 0. Every point or bar
/// has a `<title>` with its series, month and value; a legend names the
/// series by colour.
pub fn trend(series: &[(String, Vec<(String, u64)>)], style: TrendStyle, text: &TrendText) -> String {
    let months: BTreeSet<&str> =
        series.iter().flat_map(|(_, points)| points.iter().map(|(month, _)| month.as_str())).collect();
    if series.is_empty() || months.is_empty() {
        return no_data("trend", text.title, text.no_data);
    }
    let months: Vec<&str> = months.into_iter().collect();
    let values: Vec<Vec<u64>> = series
        .iter()
        .map(|(_, points)| {
            let mut by_month = vec![0u64; months.len()];
            for (month, value) in points {
                if let Ok(i) = months.binary_search(&month.as_str()) {
                    by_month[i] = by_month[i].saturating_add(*value);
                }
            }
            by_month
        })
        .collect();
    let max = values.iter().flatten().copied().max().unwrap_or(0);
    let (top, step) = nice_axis(max);

    const LEFT: u32 = 64;
    const RIGHT: u32 = 16;
    const TOP: u32 = 36;
    const PLOT_H: u32 = 260;
    let plot_w: u32 = (months.len() as u32 * 56).clamp(360, 1000);
    let width = LEFT + plot_w + RIGHT;
    let legend_top = TOP + PLOT_H + 48;
    let per_row = 3usize;
    let legend_rows = series.len().div_ceil(per_row) as u32;
    let height = legend_top + legend_rows * 22 + 8;
    let slot = plot_w as f64 / months.len() as f64;
    let y_of = |value: u64| TOP as f64 + PLOT_H as f64 * (1.0 - value as f64 / top as f64);

    let mut out = String::new();
    let total: u64 = values.iter().flatten().sum();
    let desc = format!(
        "{} {} · {} – {}",
        total,
        text.unit,
        months.first().copied().unwrap_or_default(),
        months.last().copied().unwrap_or_default()
    );
    open_svg(&mut out, "trend", width, height, text.title, &desc);
    let _ =
        write!(out, "<text x=\"{LEFT}\" y=\"20\" font-weight=\"600\" font-size=\"15\">{}</text>", escape(text.title));
    // Grid and the value axis.
    let mut tick = 0;
    while tick <= top {
        let y = y_of(tick);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#333\">{tick}</text>",
            x2 = LEFT + plot_w,
            tx = LEFT - 6,
            ty = y + 4.0,
        );
        tick += step;
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{bottom}\" stroke=\"#333\"/>\
         <line x1=\"{LEFT}\" x2=\"{right}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#333\"/>",
        bottom = TOP + PLOT_H,
        right = LEFT + plot_w,
    );
    // Month labels: all of them when they fit, else every k-th.
    let every = months.len().div_ceil(16).max(1);
    for (i, month) in months.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                out,
                "<text class=\"month\" x=\"{x:.1}\" y=\"{y}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">{}</text>",
                escape(month),
                x = LEFT as f64 + slot * (i as f64 + 0.5),
                y = TOP + PLOT_H + 18,
            );
        }
    }
    for (s, ((label, _), row)) in series.iter().zip(&values).enumerate() {
        let color = SERIES[s % SERIES.len()];
        let _ = write!(out, "<g class=\"series\" data-series=\"{}\">", escape(label));
        match style {
            TrendStyle::Lines => {
                let points: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(i, value)| format!("{:.1},{:.1}", LEFT as f64 + slot * (i as f64 + 0.5), y_of(*value)))
                    .collect();
                let _ = write!(
                    out,
                    "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\" points=\"{}\"/>",
                    points.join(" ")
                );
                for (i, value) in row.iter().enumerate() {
                    let _ = write!(
                        out,
                        "<circle class=\"point\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4\" fill=\"{color}\"><title>{}</title></circle>",
                        escape(&format!("{label} · {}: {value} {}", months[i], text.unit)),
                        cx = LEFT as f64 + slot * (i as f64 + 0.5),
                        cy = y_of(*value),
                    );
                }
            }
            TrendStyle::Bars => {
                let group = slot * 0.8;
                let bar = group / series.len() as f64;
                for (i, value) in row.iter().enumerate() {
                    let x = LEFT as f64 + slot * i as f64 + slot * 0.1 + bar * s as f64;
                    let y = y_of(*value);
                    let _ = write!(
                        out,
                        "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{color}\"><title>{}</title></rect>",
                        escape(&format!("{label} · {}: {value} {}", months[i], text.unit)),
                        w = (bar - 1.0).max(1.0),
                        h = (TOP + PLOT_H) as f64 - y,
                    );
                }
            }
        }
        out.push_str("</g>");
    }
    // Legend.
    out.push_str("<g class=\"legend\">");
    let column_w = plot_w / per_row as u32;
    for (s, (label, _)) in series.iter().enumerate() {
        let x = LEFT + (s % per_row) as u32 * column_w;
        let y = legend_top + (s / per_row) as u32 * 22;
        let _ = write!(
            out,
            "<rect class=\"swatch\" x=\"{x}\" y=\"{y}\" width=\"16\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{tx}\" y=\"{ty}\">{}<title>{}</title></text>",
            SERIES[s % SERIES.len()],
            escape(&shorten(label, 28)),
            escape(label),
            tx = x + 22,
            ty = y + 11,
        );
    }
    out.push_str("</g></svg>");
    out
}

// ---------------------------------------------------------------------------
// (c) One appeal's path between agencies.

/// One body's turn with an appeal, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowStop {
    /// The agency's shown name.
    pub agency: String,
    /// How long the body held the appeal (so far, for the last one), as
    /// the reader says it, e.g. "3 working days".
    pub held: Option<String>,
    /// Why the body passed it on (already translated); `None` for the
    /// current or the last holder.
    pub forward_reason: Option<String>,
    /// What happened at the end of the path (e.g. "answered: rejected"), for
    /// the last stop.
    pub outcome: Option<String>,
}

/// Words of a path diagram, in the reader's language.
#[derive(Clone, Debug)]
pub struct FlowText<'a> {
    /// e.g. "Path of appeal A-2025-000123".
    pub title: &'a str,
    /// Marks a body that held the appeal before, e.g. "again".
    pub again: &'a str,
    /// Shown instead of the chart when there is nothing to draw.
    pub no_data: &'a str,
}

/// One appeal's path as a flow: every body that held it as a box, left to
/// right (wrapping after four boxes), joined by arrows labelled with the
/// forward's reason and how many working days the sender held it. A body
/// that receives the appeal a second time (a cycle) is drawn in orange with
/// a dashed border and marked `again`.
pub fn appeal_path(stops: &[FlowStop], text: &FlowText) -> String {
    if stops.is_empty() {
        return no_data("appeal-path", text.title, text.no_data);
    }
    const BOX_W: u32 = 170;
    const BOX_H: u32 = 64;
    const GAP: u32 = 130;
    const ROW_H: u32 = 150;
    const PER_ROW: usize = 4;
    const LEFT: u32 = 12;
    const TOP: u32 = 44;
    let rows = stops.len().div_ceil(PER_ROW) as u32;
    let columns = stops.len().min(PER_ROW) as u32;
    let width = LEFT * 2 + columns * BOX_W + columns.saturating_sub(1) * GAP;
    let height = TOP + rows * ROW_H;
    let position = |i: usize| {
        let row = (i / PER_ROW) as u32;
        let column = (i % PER_ROW) as u32;
        (LEFT + column * (BOX_W + GAP), TOP + row * ROW_H)
    };

    let mut out = String::new();
    let desc: Vec<String> = stops.iter().map(|stop| stop.agency.clone()).collect();
    open_svg(&mut out, "appeal-path", width.max(300), height, text.title, &desc.join(" → "));
    let _ = write!(
        out,
        "<defs><marker id=\"appeal-path-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\
         <text x=\"{LEFT}\" y=\"22\" font-weight=\"600\" font-size=\"15\">{}</text>",
        escape(text.title)
    );
    let shown = short_labels(&stops.iter().map(|stop| stop.agency.clone()).collect::<Vec<_>>());
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, stop) in stops.iter().enumerate() {
        let (x, y) = position(i);
        let again = !seen.insert(stop.agency.as_str());
        let (fill, stroke, dash) =
            if again { ("#fde2cf", "#b34700", " stroke-dasharray=\"6 3\"") } else { ("#e8f1fa", "#0b4f8a", "") };
        let mut tooltip = stop.agency.clone();
        if let Some(d) = &stop.held {
            tooltip.push_str(&format!(" · {d}"));
        }
        if again {
            tooltip.push_str(&format!(" · {}", text.again));
        }
        if let Some(outcome) = &stop.outcome {
            tooltip.push_str(&format!(" · {outcome}"));
        }
        let _ = write!(
            out,
            "<g class=\"stop{again_class}\"><title>{}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\" font-weight=\"600\" font-size=\"12\">",
            escape(&tooltip),
            again_class = if again { " again" } else { "" },
            cx = x + BOX_W / 2,
            ty = y + 20,
        );
        for (line, part) in two_lines(&shown[i], 21).iter().enumerate() {
            let _ = write!(
                out,
                "<tspan x=\"{cx}\" dy=\"{dy}\">{}</tspan>",
                escape(part),
                cx = x + BOX_W / 2,
                dy = if line == 0 { 0 } else { 15 },
            );
        }
        out.push_str("</text>");
        let second = match (&stop.outcome, again) {
            (Some(outcome), _) if stop.forward_reason.is_none() => Some(outcome.clone()),
            (_, true) => Some(text.again.to_owned()),
            _ => None,
        };
        if let Some(second) = second {
            let _ = write!(
                out,
                "<text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">{}</text>",
                escape(&shorten(&second, 26)),
                cx = x + BOX_W / 2,
                ty = y + 55,
            );
        }
        if i + 1 == stops.len() {
            if let Some(d) = &stop.held {
                let _ = write!(
                    out,
                    "<text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">{}</text>",
                    escape(d),
                    cx = x + BOX_W / 2,
                    ty = y + BOX_H + 18,
                );
            }
        }
        out.push_str("</g>");
        if let Some((nx, ny)) = (i + 1 < stops.len()).then(|| position(i + 1)) {
            let label_top = stop.forward_reason.clone().unwrap_or_default();
            let label_bottom = stop.held.clone().unwrap_or_default();
            let _ = write!(out, "<g class=\"hop\"><title>{}</title>", escape(&format!("{label_top} · {label_bottom}")));
            let mid_y = y + BOX_H / 2;
            if ny == y {
                // Same row: a straight arrow with the reason above and the
                // days held below.
                let (x1, x2) = (x + BOX_W, nx);
                let _ = write!(
                    out,
                    "<line x1=\"{x1}\" y1=\"{mid_y}\" x2=\"{x2}\" y2=\"{mid_y}\" stroke=\"#333\" stroke-width=\"2\" marker-end=\"url(#appeal-path-arrow)\"/>\
                     <text x=\"{cx}\" y=\"{t1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\
                     <text x=\"{cx}\" y=\"{t2}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">{}</text>",
                    escape(&shorten(&label_top, 20)),
                    escape(&label_bottom),
                    cx = (x1 + x2) / 2,
                    t1 = mid_y - 8,
                    t2 = mid_y + 18,
                );
            } else {
                // Wrap to the next row: down, back to the left, down.
                let down = y + BOX_H + (ROW_H - BOX_H) / 2;
                let (sx, ex) = (x + BOX_W / 2, nx + BOX_W / 2);
                let _ = write!(
                    out,
                    "<path class=\"wrap\" d=\"M{sx},{sy} V{down} H{ex} V{ey}\" fill=\"none\" stroke=\"#333\" stroke-width=\"2\" marker-end=\"url(#appeal-path-arrow)\"/>\
                     <text x=\"{cx}\" y=\"{t1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                    escape(&format!("{} · {}", shorten(&label_top, 24), label_bottom)),
                    sy = y + BOX_H,
                    ey = ny,
                    cx = (sx + ex) / 2,
                    t1 = down - 6,
                );
            }
            out.push_str("</g>");
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heat_text() -> HeatmapText<'static> {
        HeatmapText {
            title: "Forwards",
            rows: "from",
            columns: "to",
            unit: "forwards",
            legend: "Forwards per pair",
            no_data: "No forwards in this period",
        }
    }

    fn s(text: &str) -> String {
        text.to_owned()
    }

    /// A minimal well-formedness check: tags balance and nothing raw leaks.
    fn assert_balanced(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let Some(end) = rest[start..].find('>') else { panic!("unclosed tag in {svg}") };
            let tag = &rest[start + 1..start + end];
            rest = &rest[start + end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}> in {svg}");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or_default();
                stack.push(name.to_owned());
            }
            // Text between tags must not contain a raw '<' or a bare '&'.
            let text_end = rest.find('<').unwrap_or(rest.len());
            let between = &rest[..text_end];
            for (i, _) in between.match_indices('&') {
                let entity = &between[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|e| entity.starts_with(e)),
                    "bare & in {between:?}"
                );
            }
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn heatmap_has_one_cell_per_pair_a_legend_and_titles() {
        let agencies = vec![(s("a"), s("Akimat")), (s("b"), s("Police")), (s("c"), s("Justice"))];
        let edges = vec![(s("a"), s("b"), 5), (s("b"), s("a"), 2), (s("b"), s("c"), 40), (s("a"), s("b"), 1)];
        let svg = forward_heatmap(&edges, &agencies, &heat_text());
        assert_balanced(&svg);
        assert_eq!(svg.matches("<rect class=\"cell\"").count(), 9);
        assert!(svg.contains("class=\"legend\""));
        assert!(svg.contains("Forwards per pair"));
        // Duplicate pairs are summed and the title names both agencies.
        assert!(svg.contains("<title>Akimat → Police: 6 forwards</title>"), "{svg}");
        assert!(svg.contains("<title>Police → Justice: 40 forwards</title>"));
        assert!(svg.contains("<title>Justice → Akimat: 0 forwards</title>"));
        assert!(svg.contains("viewBox=\"0 0 "));
        assert!(svg.contains("role=\"img\""));
        // The hottest pair has the darkest colour.
        let hottest = svg.find("Police → Justice").unwrap_or_default();
        let cell_start = svg[..hottest].rfind("<rect").unwrap_or_default();
        assert!(svg[cell_start..hottest].contains(HEAT[HEAT.len() - 1]));
    }

    #[test]
    fn heatmap_lists_unknown_agencies_by_id_and_skips_zero_edges() {
        let agencies = vec![(s("a"), s("Akimat")), (s("unused"), s("Unused"))];
        let edges = vec![(s("a"), s("x"), 3), (s("x"), s("y"), 0)];
        let svg = forward_heatmap(&edges, &agencies, &heat_text());
        assert_eq!(svg.matches("<rect class=\"cell\"").count(), 4);
        assert!(svg.contains("<title>Akimat → x: 3 forwards</title>"));
        assert!(!svg.contains("Unused"));
    }

    #[test]
    fn heatmap_escapes_every_label() {
        let agencies = vec![(s("a"), s("<script>&\"x'")), (s("b"), s("B & C"))];
        let edges = vec![(s("a"), s("b"), 1)];
        let text = HeatmapText { title: "T<&\">", unit: "u&", ..heat_text() };
        let svg = forward_heatmap(&edges, &agencies, &text);
        assert_balanced(&svg);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;&amp;&quot;x&#39;"));
        assert!(svg.contains("B &amp; C"));
        assert!(svg.contains("<title id=\"forward-heatmap-title\">T&lt;&amp;&quot;&gt;</title>"));
    }

    #[test]
    fn heatmap_without_forwards_says_no_data() {
        let svg = forward_heatmap(&[], &[(s("a"), s("A"))], &heat_text());
        assert_balanced(&svg);
        assert!(svg.contains("class=\"no-data\""));
        assert!(svg.contains("No forwards in this period"));
        assert!(!svg.contains("class=\"cell\""));
    }

    #[test]
    fn heat_classes_are_increasing_and_end_at_the_maximum() {
        for max in [1u64, 2, 3, 7, 10, 99, 1000, 123_456] {
            let bounds = heat_classes(max);
            assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{max}: {bounds:?}");
            assert_eq!(bounds.last().copied(), Some(max));
            assert_eq!(heat_class(max, &bounds), HEAT.len() - 1);
            assert_eq!(heat_class(0, &bounds), 0);
            assert!(heat_class(1, &bounds) >= 1);
        }
    }

    fn trend_text() -> TrendText<'static> {
        TrendText { title: "Appeals by month", unit: "appeals", no_data: "No appeals" }
    }

    #[test]
    fn trend_draws_every_point_and_a_legend() {
        let series = vec![
            (s("Housing"), vec![(s("2025-01"), 10), (s("2025-02"), 25), (s("2025-03"), 7)]),
            (s("Roads <&\">"), vec![(s("2025-02"), 3)]),
        ];
        let svg = trend(&series, TrendStyle::Lines, &trend_text());
        assert_balanced(&svg);
        assert_eq!(svg.matches("<circle class=\"point\"").count(), 6);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("class=\"legend\""));
        assert!(svg.contains("Roads &lt;&amp;&quot;&gt;"));
        // A month missing from a series is 0.
        assert!(svg.contains("<title>Roads &lt;&amp;&quot;&gt; · 2025-01: 0 appeals</title>"));
        assert!(svg.contains("<title>Housing · 2025-02: 25 appeals</title>"));
        let bars = trend(&series, TrendStyle::Bars, &trend_text());
        assert_balanced(&bars);
        assert_eq!(bars.matches("<rect class=\"bar\"").count(), 6);
    }

    #[test]
    fn trend_without_data_says_no_data() {
        for series in [vec![], vec![(s("Housing"), vec![])]] {
            let svg = trend(&series, TrendStyle::Lines, &trend_text());
            assert_balanced(&svg);
            assert!(svg.contains("class=\"no-data\"") && svg.contains("No appeals"));
        }
    }

    #[test]
    fn nice_axis_covers_the_maximum() {
        for max in [0u64, 1, 4, 9, 10, 11, 99, 101, 12_345] {
            let (top, step) = nice_axis(max);
            assert!(top >= max && step > 0 && top % step == 0, "{max}: {top} {step}");
            assert!(top / step <= 10, "{max}: {top} {step}");
        }
    }

    fn flow_text() -> FlowText<'static> {
        FlowText { title: "Path of A-1", again: "again", no_data: "No path" }
    }

    fn stop(agency: &str, days: u32, reason: Option<&str>) -> FlowStop {
        FlowStop {
            agency: agency.to_owned(),
            held: Some(format!("{days} working days")),
            forward_reason: reason.map(str::to_owned),
            outcome: None,
        }
    }

    #[test]
    fn path_has_a_box_per_holder_and_labelled_arrows() {
        let mut stops = vec![
            stop("Akimat", 2, Some("not in competence")),
            stop("Police & <Co>", 3, Some("joint review")),
            stop("Akimat", 1, Some("other")),
            stop("Justice", 5, Some("not in competence")),
            stop("Education", 4, None),
        ];
        stops[4].outcome = Some("answered: rejected".to_owned());
        let svg = appeal_path(&stops, &flow_text());
        assert_balanced(&svg);
        assert_eq!(svg.matches("<g class=\"stop").count(), 5);
        assert_eq!(svg.matches("<g class=\"hop\"").count(), 4);
        // The fifth box wraps to a second row: one arrow is a path.
        assert_eq!(svg.matches("<path class=\"wrap\"").count(), 1);
        assert_eq!(svg.matches("class=\"stop again\"").count(), 1);
        assert!(svg.contains("Police &amp; &lt;Co&gt;"));
        assert!(svg.contains(">not in competence</text>"));
        assert!(svg.contains(">2 working days</text>"));
        assert!(svg.contains("answered: rejected"));
        assert!(svg.contains("Akimat → Police &amp; &lt;Co&gt; → Akimat → Justice → Education"));
    }

    #[test]
    fn path_without_stops_says_no_data() {
        let svg = appeal_path(&[], &flow_text());
        assert_balanced(&svg);
        assert!(svg.contains("class=\"no-data\"") && svg.contains("No path"));
    }

    #[test]
    fn short_labels_drop_what_most_labels_share() {
        let kk = vec![
            s("Қазақстан Республикасы Әділет министрлігі"),
            s("Қазақстан Республикасы Оқу-ағарту министрлігі"),
            s("Қазақстан Республикасы Ішкі істер министрлігі"),
            s("Астана қаласының әкімдігі"),
        ];
        assert_eq!(
            short_labels(&kk),
            vec!["Әділет министрлігі", "Оқу-ағарту министрлігі", "Ішкі істер министрлігі", "Астана қаласының әкімдігі"]
        );
        let en = vec![
            s("Ministry of Justice of the Republic of Kazakhstan"),
            s("Ministry of Education of the Republic of Kazakhstan"),
            s("Akimat of Astana"),
        ];
        assert_eq!(short_labels(&en), vec!["Ministry of Justice", "Ministry of Education", "Akimat of Astana"]);
        // Nothing shared: unchanged; a label is never emptied.
        let few = vec![s("Akimat"), s("Police"), s("A B")];
        assert_eq!(short_labels(&few), few);
        assert_eq!(short_labels(&[s("X Y Z"), s("X Y Z")]), vec!["X Y Z", "X Y Z"]);
    }

    #[test]
    fn escape_handles_every_special_character() {
        assert_eq!(escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("a\u{1}b"), "a b");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(two_lines("Akimat", 10), vec!["Akimat"]);
        assert_eq!(two_lines("Ministry of Justice of the Republic", 12), vec!["Ministry of", "Justice of …"]);
        assert_eq!(two_lines("Supercalifragilistic", 8), vec!["Superca…"]);
    }
}
