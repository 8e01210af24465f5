//! Charts of hunting results, drawn on the server as SVG (no script, no library).
//!
//! `render timechart` / `linechart` / `areachart` (and the other line kinds)
//! draw one line per series: the x axis is the first datetime column (else
//! the first numeric one, else a `make-series` axis array), every other
//! numeric column is a y value, and string or bool columns split the rows
//! into series, as Kusto does. `columnchart` draws vertical bars, `barchart`
//! horizontal ones, `piechart` a pie (the nine largest slices and "Other"),
//! and `card` the first value in large type. The result's rows are read as
//! they are; charts never change what the grid shows. Colours come from the
//! style sheet (`.s0` … `.s11`), and every text is XML-escaped here.

use std::collections::HashMap;
use std::fmt::Write;

use otwatch_query::{QueryResult, Type, Value};

/// Series drawn at most (the rest are named in the note).
pub const MAX_SERIES: usize = 12;
/// Points per series at most (longer series are thinned evenly).
pub const MAX_POINTS: usize = 2_000;
/// Bars (categories) at most.
pub const MAX_BARS: usize = 40;
/// Pie slices before "Other".
pub const MAX_SLICES: usize = 9;

const W: f64 = 960.0;
const H: f64 = 300.0;
const ML: f64 = 64.0;
const MR: f64 = 18.0;
const MT: f64 = 14.0;
const MB: f64 = 34.0;

/// A chart ready for the page: its markup, and a note on what was left out or why
/// nothing could be drawn.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// SVG (or, for a card, HTML) to embed; empty when nothing could be drawn.
    pub html: String,
    /// Legend entries: (label, colour class).
    pub legend: Vec<(String, String)>,
    /// What was shortened or why there is no chart.
    pub note: String,
}

/// Draws the chart a query's `render` asked for.
pub fn draw(kind: &str, r: &QueryResult) -> Chart {
    let out = match kind {
        "timechart" | "linechart" | "scatterchart" | "anomalychart" => line(r, false),
        "areachart" | "stackedareachart" => line(r, true),
        "columnchart" => bars(r, false),
        "barchart" => bars(r, true),
        "piechart" => pie(r),
        "card" => card(r),
        "table" => return Chart::default(),
        other => Err(format!("“render {other}” is shown as a table.")),
    };
    match out {
        Ok(c) => c,
        Err(note) => Chart { note, ..Chart::default() },
    }
}

/// XML/HTML text escape.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn is_num(t: Type) -> bool {
    matches!(t, Type::Int | Type::Long | Type::Real)
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Long(n) => Some(*n as f64),
        Value::Real(r) if r.is_finite() => Some(*r),
        _ => None,
    }
}

fn json_num(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

fn json_time(v: &serde_json::Value) -> Option<f64> {
    v.as_str().and_then(|s| otwatch_model::Timestamp::parse(s).ok()).map(|t| t.0 as f64)
}

/// A value as a short label (datetimes without seconds when they are whole minutes).
fn label(v: &Value) -> String {
    match v {
        Value::DateTime(us) => short_time(*us as f64, 0.0),
        Value::Str(s) if s.is_empty() => "(empty)".into(),
        Value::Null => "(null)".into(),
        other => crate::hunt::value_text(other),
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Compact number for axes and titles: 1,234 → "1.2k", 2500000 → "2.5M".
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if x.fract() == 0.0 || x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s =
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    format!("{s}{suffix}")
}

/// A datetime (microseconds) as a short UTC label; `span` (microseconds) picks the precision.
fn short_time(us: f64, span: f64) -> String {
    let s = otwatch_query::format_datetime(us as i64);
    let date = s.get(5..10).unwrap_or("");
    let hm = s.get(11..16).unwrap_or("");
    let day = 86_400e6;
    if span >= 3.0 * day {
        date.to_string()
    } else if span > 0.0 && span < day && hm != "00:00" {
        hm.to_string()
    } else if hm == "00:00" && span >= day {
        date.to_string()
    } else {
        format!("{date} {hm}")
    }
}

fn nice_step(range: f64, count: f64) -> f64 {
    let raw = (range / count).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let n = raw / mag;
    let m = if n <= 1.0 {
        1.0
    } else if n <= 2.0 {
        2.0
    } else if n <= 2.5 {
        2.5
    } else if n <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Round axis bounds and ticks covering `lo..hi`.
fn ticks(lo: f64, hi: f64, count: f64) -> (f64, f64, Vec<f64>) {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
    let step = nice_step(hi - lo, count);
    let a = (lo / step).floor() * step;
    let b = (hi / step).ceil() * step;
    let mut v = Vec::new();
    let mut t = a;
    while t <= b + step * 1e-9 && v.len() < 50 {
        v.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    (a, b, v)
}

/// Time ticks at a round step (1 minute … 30 days), at most about `count`.
fn time_ticks(lo: f64, hi: f64, count: f64) -> Vec<f64> {
    const M: f64 = 60e6;
    let steps = [
        M,
        5.0 * M,
        15.0 * M,
        30.0 * M,
        60.0 * M,
        180.0 * M,
        360.0 * M,
        720.0 * M,
        1440.0 * M,
        2.0 * 1440.0 * M,
        7.0 * 1440.0 * M,
        30.0 * 1440.0 * M,
        365.0 * 1440.0 * M,
    ];
    let span = (hi - lo).max(1.0);
    let step = steps.iter().copied().find(|s| span / s <= count).unwrap_or(span / count);
    let mut v = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi && v.len() < 40 {
        v.push(t);
        t += step;
    }
    v
}

struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

fn series_name(key: &str, col: &str, ncols: usize) -> String {
    match (key.is_empty(), ncols) {
        (true, _) => col.to_string(),
        (false, 1) => key.to_string(),
        (false, _) => format!("{key} · {col}"),
    }
}

/// Rows to series for a line chart. Returns (series, x is time, x axis title).
fn line_series(r: &QueryResult) -> Result<(Vec<Series>, bool, String), String> {
    let cols = &r.columns;
    let keys: Vec<usize> = cols
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.ty, Type::String | Type::Bool))
        .map(|(i, _)| i)
        .collect();
    let key_of = |row: &[Value]| -> String {
        keys.iter().filter_map(|i| row.get(*i)).map(label).collect::<Vec<_>>().join(" · ")
    };
    let mut out: Vec<Series> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut push = |name: String, p: (f64, f64)| {
        let i = *index.entry(name.clone()).or_insert_with(|| {
            out.push(Series { name, points: Vec::new() });
            out.len() - 1
        });
        if let Some(s) = out.get_mut(i) {
            s.points.push(p);
        }
    };
    let x = cols
        .iter()
        .position(|c| c.ty == Type::DateTime)
        .or_else(|| cols.iter().position(|c| is_num(c.ty)));
    let (is_time, title) = if let Some(x) = x {
        let ys: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(i, c)| *i != x && is_num(c.ty))
            .map(|(i, _)| i)
            .collect();
        if ys.is_empty() {
            return Err("No chart: the result has no numeric column to plot.".into());
        }
        let Some(xcol) = cols.get(x) else { return Err("No chart.".into()) };
        let is_time = xcol.ty == Type::DateTime;
        for row in &r.rows {
            let xv = match row.get(x) {
                Some(Value::DateTime(us)) => *us as f64,
                Some(v) => match num(v) {
                    Some(f) => f,
                    None => continue,
                },
                None => continue,
            };
            let key = key_of(row);
            for y in &ys {
                if let (Some(v), Some(c)) = (row.get(*y).and_then(num), cols.get(*y)) {
                    push(series_name(&key, &c.name, ys.len()), (xv, v));
                }
            }
        }
        (is_time, xcol.name.clone())
    } else {
        // make-series: one row per series, arrays of values beside an array of times.
        let dyn_cols: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.ty == Type::Dynamic)
            .map(|(i, _)| i)
            .collect();
        let first = r.rows.first().ok_or("No chart: the result is empty.")?;
        let axis = dyn_cols
            .iter()
            .copied()
            .find(|i| match first.get(*i) {
                Some(Value::Dynamic(j)) => j
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(json_time)
                    .is_some(),
                _ => false,
            })
            .ok_or(
                "No chart: a line chart needs a datetime or numeric column (or a make-series result).",
            )?;
        let ys: Vec<usize> = dyn_cols.iter().copied().filter(|i| *i != axis).collect();
        for row in &r.rows {
            let Some(Value::Dynamic(a)) = row.get(axis) else { continue };
            let Some(times) = a.as_array() else { continue };
            let key = key_of(row);
            for y in &ys {
                let (Some(Value::Dynamic(v)), Some(c)) = (row.get(*y), cols.get(*y)) else {
                    continue;
                };
                let Some(vals) = v.as_array() else { continue };
                let name = series_name(&key, &c.name, ys.len());
                for (t, v) in times.iter().zip(vals) {
                    if let (Some(t), Some(v)) = (json_time(t), json_num(v)) {
                        push(name.clone(), (t, v));
                    }
                }
            }
        }
        (true, cols.get(axis).map(|c| c.name.clone()).unwrap_or_default())
    };
    out.retain(|s| !s.points.is_empty());
    if out.is_empty() {
        return Err("No chart: no row has a value to plot.".into());
    }
    for s in &mut out {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        if s.points.len() > MAX_POINTS {
            let step = s.points.len().div_ceil(MAX_POINTS);
            s.points = s.points.iter().step_by(step).copied().collect();
        }
    }
    Ok((out, is_time, title))
}

fn legend(names: &[String]) -> Vec<(String, String)> {
    names.iter().enumerate().map(|(i, n)| (n.clone(), format!("s{}", i % MAX_SERIES))).collect()
}

fn line(r: &QueryResult, area: bool) -> Result<Chart, String> {
    let (mut series, is_time, x_title) = line_series(r)?;
    let mut note = String::new();
    if series.len() > MAX_SERIES {
        note = format!("The chart shows the first {MAX_SERIES} of {} series.", series.len());
        series.truncate(MAX_SERIES);
    }
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, 0f64, f64::MIN);
    for (x, y) in all {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if x1 <= x0 {
        x1 = x0 + if is_time { 3600e6 } else { 1.0 };
        x0 -= if is_time { 3600e6 } else { 1.0 };
    }
    let (y0, y1, yt) = ticks(y0, y1.max(y0), 5.0);
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let sx = |x: f64| ML + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| MT + ph - (y - y0) / (y1 - y0) * ph;
    let mut s = String::new();
    let title = format!(
        "Line chart of {}",
        series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" data-testid="chart" data-kind="line"><title>{}</title>"#,
        esc(&clip(&title, 300)),
        esc(&clip(&title, 300))
    );
    for t in &yt {
        let y = sy(*t);
        let _ = write!(
            s,
            r#"<line class="gridline" x1="{ML}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - MR,
            ML - 6.0,
            y + 4.0,
            esc(&fmt_num(*t))
        );
    }
    let xt: Vec<f64> = if is_time {
        time_ticks(x0, x1, 8.0)
    } else {
        let (_, _, v) = ticks(x0, x1, 8.0);
        v.into_iter().filter(|t| *t >= x0 && *t <= x1).collect()
    };
    for t in &xt {
        let x = sx(*t);
        let text = if is_time { short_time(*t, x1 - x0) } else { fmt_num(*t) };
        let _ = write!(
            s,
            r#"<line class="tickline" x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            MT + ph,
            MT + ph + 4.0,
            MT + ph + 17.0,
            esc(&text)
        );
    }
    let axis_title = if is_time { format!("{x_title} (UTC)") } else { x_title };
    let _ = write!(
        s,
        r#"<line class="axisline" x1="{ML}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        W - MR,
        MT + ph,
        MT + ph,
        ML + pw / 2.0,
        H - 3.0,
        esc(&axis_title)
    );
    let total: usize = series.iter().map(|s| s.points.len()).sum();
    for (i, se) in series.iter().enumerate() {
        let pts: Vec<String> =
            se.points.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect();
        if area && let (Some(first), Some(last)) = (se.points.first(), se.points.last()) {
            let base = sy(0f64.max(y0));
            let _ = write!(
                s,
                r#"<polygon class="area s{i}" points="{:.1},{base:.1} {} {:.1},{base:.1}"/>"#,
                sx(first.0),
                pts.join(" "),
                sx(last.0)
            );
        }
        let _ = write!(
            s,
            r#"<polyline class="series s{i}" data-series="{}" points="{}"/>"#,
            esc(&se.name),
            pts.join(" ")
        );
        if total <= 400 {
            for (x, y) in &se.points {
                let xl =
                    if is_time { otwatch_query::format_datetime(*x as i64) } else { fmt_num(*x) };
                let _ = write!(
                    s,
                    r#"<circle class="dot s{i}" cx="{:.1}" cy="{:.1}" r="3"><title>{}: {} at {}</title></circle>"#,
                    sx(*x),
                    sy(*y),
                    esc(&se.name),
                    esc(&fmt_exact(*y)),
                    esc(&xl)
                );
            }
        }
    }
    s.push_str("</svg>");
    let names: Vec<String> = series.into_iter().map(|s| s.name).collect();
    Ok(Chart { html: s, legend: legend(&names), note })
}

/// A value as written (integers without a fraction).
fn fmt_exact(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// Rows to (category labels, value series) for bars and pies.
fn categories(r: &QueryResult) -> Result<(Vec<String>, Vec<Series>), String> {
    let cols = &r.columns;
    let cat = cols.iter().position(|c| !is_num(c.ty)).unwrap_or(0);
    let vals: Vec<usize> = cols
        .iter()
        .enumerate()
        .filter(|(i, c)| *i != cat && is_num(c.ty))
        .map(|(i, _)| i)
        .collect();
    if vals.is_empty() {
        return Err("No chart: the result has no numeric column to plot.".into());
    }
    let labels: Vec<String> =
        r.rows.iter().map(|row| row.get(cat).map(label).unwrap_or_default()).collect();
    let series = vals
        .iter()
        .filter_map(|v| {
            let c = cols.get(*v)?;
            Some(Series {
                name: c.name.clone(),
                points: r
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(i, row)| (i as f64, row.get(*v).and_then(num).unwrap_or(0.0)))
                    .collect(),
            })
        })
        .collect();
    Ok((labels, series))
}

fn bars(r: &QueryResult, horizontal: bool) -> Result<Chart, String> {
    let (mut labels, mut series) = categories(r)?;
    if labels.is_empty() {
        return Err("No chart: the result is empty.".into());
    }
    let mut notes = Vec::new();
    if labels.len() > MAX_BARS {
        notes.push(format!("The chart shows the first {MAX_BARS} of {} rows.", labels.len()));
        labels.truncate(MAX_BARS);
        for s in &mut series {
            s.points.truncate(MAX_BARS);
        }
    }
    if series.len() > 6 {
        notes.push(format!("The chart shows the first 6 of {} value columns.", series.len()));
        series.truncate(6);
    }
    let (mut lo, mut hi) = (0f64, f64::MIN);
    for (_, y) in series.iter().flat_map(|s| s.points.iter()) {
        lo = lo.min(*y);
        hi = hi.max(*y);
    }
    let (lo, hi, vt) = ticks(lo, hi.max(lo), 5.0);
    let n = labels.len() as f64;
    let k = series.len() as f64;
    let mut s = String::new();
    let title = format!(
        "{} of {} by {}",
        if horizontal { "Bar chart" } else { "Column chart" },
        series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        r.columns.iter().find(|c| !is_num(c.ty)).map(|c| c.name.as_str()).unwrap_or("row")
    );
    if horizontal {
        let left = 190.0;
        let row_h = 24.0;
        let h = MT + n * row_h + MB;
        let pw = W - left - MR;
        let sx = |v: f64| left + (v - lo) / (hi - lo) * pw;
        let _ = write!(
            s,
            r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{0}" data-testid="chart" data-kind="bar"><title>{0}</title>"#,
            esc(&title)
        );
        for t in &vt {
            let x = sx(*t);
            let _ = write!(
                s,
                r#"<line class="gridline" x1="{x:.1}" x2="{x:.1}" y1="{MT}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                MT + n * row_h,
                MT + n * row_h + 16.0,
                esc(&fmt_num(*t))
            );
        }
        let bar_h = (row_h * 0.72) / k;
        for (ci, lab) in labels.iter().enumerate() {
            let y = MT + ci as f64 * row_h;
            let _ = write!(
                s,
                r#"<text class="cat" x="{:.1}" y="{:.1}" text-anchor="end"><title>{}</title>{}</text>"#,
                left - 8.0,
                y + row_h / 2.0 + 4.0,
                esc(lab),
                esc(&clip(lab, 28))
            );
            for (si, se) in series.iter().enumerate() {
                let v = se.points.get(ci).map(|p| p.1).unwrap_or(0.0);
                let (a, b) = (sx(0f64.max(lo)), sx(v));
                let _ = write!(
                    s,
                    r#"<rect class="bar s{si}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {} = {}</title></rect>"#,
                    a.min(b),
                    y + row_h * 0.14 + si as f64 * bar_h,
                    (b - a).abs().max(0.5),
                    bar_h,
                    esc(lab),
                    esc(&se.name),
                    esc(&fmt_exact(v))
                );
            }
        }
        let _ = write!(
            s,
            r#"<line class="axisline" x1="{:.1}" x2="{:.1}" y1="{MT}" y2="{:.1}"/>"#,
            sx(0f64.max(lo)),
            sx(0f64.max(lo)),
            MT + n * row_h
        );
    } else {
        let pw = W - ML - MR;
        let ph = H - MT - MB;
        let band = pw / n;
        let sy = |v: f64| MT + ph - (v - lo) / (hi - lo) * ph;
        let _ = write!(
            s,
            r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{0}" data-testid="chart" data-kind="column"><title>{0}</title>"#,
            esc(&title)
        );
        for t in &vt {
            let y = sy(*t);
            let _ = write!(
                s,
                r#"<line class="gridline" x1="{ML}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                W - MR,
                ML - 6.0,
                y + 4.0,
                esc(&fmt_num(*t))
            );
        }
        let every = (n / 12.0).ceil().max(1.0) as usize;
        let max_chars = ((band * every as f64) / 7.0).floor().max(3.0) as usize;
        let bar_w = (band * 0.75) / k;
        for (ci, lab) in labels.iter().enumerate() {
            let x = ML + ci as f64 * band;
            for (si, se) in series.iter().enumerate() {
                let v = se.points.get(ci).map(|p| p.1).unwrap_or(0.0);
                let (a, b) = (sy(0f64.max(lo)), sy(v));
                let _ = write!(
                    s,
                    r#"<rect class="bar s{si}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {} = {}</title></rect>"#,
                    x + band * 0.125 + si as f64 * bar_w,
                    a.min(b),
                    bar_w,
                    (a - b).abs().max(0.5),
                    esc(lab),
                    esc(&se.name),
                    esc(&fmt_exact(v))
                );
            }
            if ci % every == 0 {
                let _ = write!(
                    s,
                    r#"<text class="cat" x="{:.1}" y="{:.1}" text-anchor="middle"><title>{}</title>{}</text>"#,
                    x + band / 2.0,
                    MT + ph + 16.0,
                    esc(lab),
                    esc(&clip(lab, max_chars))
                );
            }
        }
        let _ = write!(
            s,
            r#"<line class="axisline" x1="{ML}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/>"#,
            W - MR,
            sy(0f64.max(lo)),
            sy(0f64.max(lo))
        );
    }
    s.push_str("</svg>");
    let names: Vec<String> = series.into_iter().map(|s| s.name).collect();
    let legend = if names.len() > 1 { legend(&names) } else { vec![] };
    Ok(Chart { html: s, legend, note: notes.join(" ") })
}

fn pie(r: &QueryResult) -> Result<Chart, String> {
    let (labels, series) = categories(r)?;
    let Some(values) = series.first() else { return Err("No chart.".into()) };
    let mut slices: Vec<(String, f64)> = labels
        .iter()
        .zip(&values.points)
        .map(|(l, p)| (l.clone(), p.1))
        .filter(|(_, v)| *v > 0.0)
        .collect();
    if slices.is_empty() {
        return Err("No chart: a pie needs positive values.".into());
    }
    slices.sort_by(|a, b| b.1.total_cmp(&a.1));
    if slices.len() > MAX_SLICES + 1 {
        let rest: f64 = slices.iter().skip(MAX_SLICES).map(|s| s.1).sum();
        let n = slices.len() - MAX_SLICES;
        slices.truncate(MAX_SLICES);
        slices.push((format!("Other ({n})"), rest));
    }
    let total: f64 = slices.iter().map(|s| s.1).sum();
    let (cx, cy, rad) = (150.0, 150.0, 140.0);
    let mut s = String::new();
    let title = format!(
        "Pie chart of {} by {}",
        values.name,
        r.columns.iter().find(|c| !is_num(c.ty)).map(|c| c.name.as_str()).unwrap_or("row")
    );
    let _ = write!(
        s,
        r#"<svg class="chart pie" viewBox="0 0 300 300" role="img" aria-label="{0}" data-testid="chart" data-kind="pie"><title>{0}</title>"#,
        esc(&title)
    );
    let mut angle = -std::f64::consts::FRAC_PI_2;
    let mut legend = Vec::new();
    for (i, (lab, v)) in slices.iter().enumerate() {
        let share = v / total;
        let pct = format!("{:.1}%", share * 100.0);
        let tip = format!("{lab}: {} ({pct})", fmt_exact(*v));
        if slices.len() == 1 {
            let _ = write!(
                s,
                r#"<circle class="slice s{i}" cx="{cx}" cy="{cy}" r="{rad}"><title>{}</title></circle>"#,
                esc(&tip)
            );
        } else {
            let a2 = angle + share * std::f64::consts::TAU;
            let (x1, y1) = (cx + rad * angle.cos(), cy + rad * angle.sin());
            let (x2, y2) = (cx + rad * a2.cos(), cy + rad * a2.sin());
            let large = if share > 0.5 { 1 } else { 0 };
            let _ = write!(
                s,
                r#"<path class="slice s{i}" d="M{cx},{cy} L{x1:.2},{y1:.2} A{rad},{rad} 0 {large} 1 {x2:.2},{y2:.2} Z"><title>{}</title></path>"#,
                esc(&tip)
            );
            angle = a2;
        }
        legend.push((format!("{lab} — {} ({pct})", fmt_exact(*v)), format!("s{i}")));
    }
    s.push_str("</svg>");
    Ok(Chart { html: s, legend, note: String::new() })
}

fn card(r: &QueryResult) -> Result<Chart, String> {
    let row = r.rows.first().ok_or("No card: the result is empty.")?;
    let i = r.columns.iter().position(|c| is_num(c.ty)).unwrap_or(0);
    let (Some(col), Some(v)) = (r.columns.get(i), row.get(i)) else {
        return Err("No card: the result has no columns.".into());
    };
    let html = format!(
        r#"<div class="kpi" data-testid="chart" data-kind="card"><span class="kpi-label">{}</span><strong class="kpi-value">{}</strong></div>"#,
        esc(&col.name),
        esc(&crate::hunt::value_text(v))
    );
    Ok(Chart { html, legend: vec![], note: String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use otwatch_query::ResultColumn;

    fn result(cols: &[(&str, Type)], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: cols
                .iter()
                .map(|(n, t)| ResultColumn { name: n.to_string(), ty: *t })
                .collect(),
            rows,
            truncated: false,
            render: None,
            sql: vec![],
        }
    }

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn timecharts_split_series_by_string_columns() {
        let h = 3_600_000_000i64;
        let r = result(
            &[("Timestamp", Type::DateTime), ("Severity", Type::String), ("count_", Type::Long)],
            vec![
                vec![Value::DateTime(0), s("Major"), Value::Long(3)],
                vec![Value::DateTime(h), s("Major"), Value::Long(5)],
                vec![Value::DateTime(0), s("Minor"), Value::Long(1)],
            ],
        );
        let c = draw("timechart", &r);
        assert!(c.html.starts_with("<svg"), "{c:?}");
        assert_eq!(c.html.matches("<polyline").count(), 2);
        assert_eq!(c.legend.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(), ["Major", "Minor"]);
        assert!(c.note.is_empty());
    }

    #[test]
    fn bars_pies_cards_and_refusals() {
        let r = result(
            &[("Vendor", Type::String), ("Devices", Type::Long)],
            vec![vec![s("Siemens <&>"), Value::Long(4)], vec![s("Cisco"), Value::Long(2)]],
        );
        let c = draw("columnchart", &r);
        assert_eq!(c.html.matches("<rect").count(), 2);
        assert!(c.html.contains("Siemens &lt;&amp;&gt;") && !c.html.contains("<&>"));
        assert_eq!(draw("barchart", &r).html.matches("<rect").count(), 2);
        let p = draw("piechart", &r);
        assert_eq!(p.html.matches("<path").count(), 2);
        assert!(p.legend[0].0.contains("66.7%"));
        assert!(draw("card", &r).html.contains(">4<"));
        let only_text = result(&[("Vendor", Type::String)], vec![vec![s("x")]]);
        let n = draw("timechart", &only_text);
        assert!(n.html.is_empty() && n.note.contains("No chart"));
        assert!(draw("treemap", &r).note.contains("table"));
        assert!(draw("table", &r).html.is_empty());
    }

    #[test]
    fn make_series_arrays_are_lines() {
        let r = result(
            &[("Site", Type::String), ("count_", Type::Dynamic), ("Timestamp", Type::Dynamic)],
            vec![vec![
                s("Plant A"),
                Value::Dynamic(std::sync::Arc::new(serde_json::json!([1, 4, 2]))),
                Value::Dynamic(std::sync::Arc::new(serde_json::json!([
                    "2024-03-01T00:00:00Z",
                    "2024-03-01T01:00:00Z",
                    "2024-03-01T02:00:00Z"
                ]))),
            ]],
        );
        let c = draw("timechart", &r);
        assert_eq!(c.html.matches("<polyline").count(), 1, "{c:?}");
        assert_eq!(c.html.matches("<circle").count(), 3);
    }

    #[test]
    fn numbers_and_ticks_are_round() {
        assert_eq!(fmt_num(12_500.0), "12.5k");
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(0.25), "0.25");
        let (a, b, t) = ticks(0.0, 47.0, 5.0);
        assert_eq!((a, b), (0.0, 50.0));
        assert_eq!(t, [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
    }
}
