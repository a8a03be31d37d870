//! Draws a metric graph into an RGB buffer with plotters and encodes it as PNG.
//!
//! Text uses DejaVu Sans, embedded in the binary: the server image has no fonts to load at
//! run time.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");

/// CloudWatch's default series palette, in order.
const PALETTE: [(u8, u8, u8); 10] = [
    (0x1f, 0x77, 0xb4),
    (0xff, 0x7f, 0x0e),
    (0x2c, 0xa0, 0x2c),
    (0xd6, 0x27, 0x28),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0xe3, 0x77, 0xc2),
    (0x7f, 0x7f, 0x7f),
    (0xbc, 0xbd, 0x22),
    (0x17, 0xbe, 0xcf),
];
const ANNOTATION_DEFAULT: (u8, u8, u8) = (0xd6, 0x27, 0x28);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum LegendPosition {
    #[default]
    Bottom,
    Right,
    Hidden,
}

/// Which side of an annotation is shaded: `Above` is also "after" for a vertical one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    Above,
    Below,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Axis {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub color: Option<(u8, u8, u8)>,
    pub right_axis: bool,
    /// (epoch ms, value), ascending.
    pub points: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HorizontalAnnotation {
    pub value: f64,
    /// The other edge of a band.
    pub band_to: Option<f64>,
    pub label: Option<String>,
    pub color: Option<(u8, u8, u8)>,
    pub fill: Option<Fill>,
    pub right_axis: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerticalAnnotation {
    pub at_ms: i64,
    pub band_to: Option<i64>,
    pub label: Option<String>,
    pub color: Option<(u8, u8, u8)>,
    pub fill: Option<Fill>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
    pub stacked: bool,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Offset of the axis labels' time zone from UTC.
    pub timezone_minutes: i32,
    pub lines: Vec<Line>,
    pub left: Axis,
    pub right: Axis,
    pub horizontal: Vec<HorizontalAnnotation>,
    pub vertical: Vec<VerticalAnnotation>,
    pub legend: LegendPosition,
}

fn font_ready() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| "the embedded font could not be loaded".to_string())
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// An opaque tint of `c`: stacked bands are painted over each other, so they cannot rely on
/// transparency without muddying the colours below.
fn tint(c: RGBColor) -> RGBColor {
    let mix = |v: u8| ((u16::from(v) * 3 + 255 * 2) / 5) as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The y range of one axis: the caller's min/max, else the data's, padded and including 0
/// for non-negative data as CloudWatch draws it.
fn y_range(values: impl Iterator<Item = f64>, axis: &Axis) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if lo > 0.0 {
        lo = 0.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    } else {
        hi += (hi - lo) * 0.05;
    }
    let lo = axis.min.unwrap_or(lo);
    let hi = axis.max.unwrap_or(hi);
    drawable_range(lo, hi)
}

/// Keeps an axis range finite, ordered and wide enough relative to its magnitude for tick
/// placement to make progress.
fn drawable_range(lo: f64, hi: f64) -> (f64, f64) {
    const LIMIT: f64 = 1e300;
    let lo = if lo.is_finite() {
        lo.clamp(-LIMIT, LIMIT)
    } else {
        0.0
    };
    let hi = if hi.is_finite() {
        hi.clamp(-LIMIT, LIMIT)
    } else {
        lo + 1.0
    };
    let magnitude = lo.abs().max(hi.abs()).max(1.0);
    let min_width = magnitude * 1e-9;
    if hi - lo >= min_width {
        (lo, hi)
    } else {
        (lo - min_width, lo + min_width)
    }
}

/// Stacked series: each point raised by the series below it at the same timestamp.
fn stack(lines: &[&Line]) -> Vec<Vec<(i64, f64)>> {
    let mut totals: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
    lines
        .iter()
        .map(|line| {
            line.points
                .iter()
                .map(|(t, v)| {
                    let total = totals.entry(*t).or_insert(0.0);
                    *total += v;
                    (*t, *total)
                })
                .collect()
        })
        .collect()
}

fn time_label(ms: i64, offset_minutes: i32, span_ms: i64) -> String {
    let shifted = ms + i64::from(offset_minutes) * 60_000;
    let Some(t) = chrono::DateTime::from_timestamp_millis(shifted) else {
        return String::new();
    };
    if span_ms > 2 * 86_400_000 {
        t.format("%m/%d %H:%M").to_string()
    } else {
        t.format("%H:%M").to_string()
    }
}

fn value_label(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let mut text = format!("{scaled:.3}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if text == "-0" {
        text = "0".to_string();
    }
    text + suffix
}

/// Below this size there is no room for axes; the image is left blank.
const MIN_PLOT_WIDTH: u32 = 120;
const MIN_PLOT_HEIGHT: u32 = 80;

/// Renders the chart and returns the PNG bytes.
pub fn render_png(chart: &Chart) -> Result<Vec<u8>, String> {
    font_ready()?;
    let (width, height) = (chart.width.max(1), chart.height.max(1));
    let mut buffer = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        if width < MIN_PLOT_WIDTH || height < MIN_PLOT_HEIGHT {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
        } else {
            draw(&root, chart).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png = Vec::with_capacity(buffer.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut png, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&buffer)
            .map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(png)
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(root: &DrawingArea<BitMapBackend<'_>, Shift>, chart: &Chart) -> DrawResult {
    root.fill(&WHITE)?;
    let (width, height) = root.dim_in_pixel();
    let text_size = if height < 150 || width < 200 { 10 } else { 12 };
    let colors: Vec<RGBColor> = chart
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| rgb(l.color.unwrap_or(PALETTE[i % PALETTE.len()])))
        .collect();

    // Legend area first, so the plot gets what is left.
    let legend_rows = if chart.legend == LegendPosition::Bottom && !chart.lines.is_empty() {
        let per_row = (width / 180).max(1) as usize;
        chart.lines.len().div_ceil(per_row).min(6) as u32
    } else {
        0
    };
    let legend_height = legend_rows * (text_size + 6) + if legend_rows > 0 { 6 } else { 0 };
    let legend_width = if chart.legend == LegendPosition::Right && !chart.lines.is_empty() {
        (width / 4).clamp(60, 200)
    } else {
        0
    };
    let plot_height = height.saturating_sub(legend_height).max(1);
    let plot_width = width.saturating_sub(legend_width).max(1);
    let (upper, legend_bottom) = root.split_vertically(plot_height);
    let (plot_area, legend_right) = upper.split_horizontally(plot_width);

    let left_lines: Vec<&Line> = chart.lines.iter().filter(|l| !l.right_axis).collect();
    let right_lines: Vec<&Line> = chart.lines.iter().filter(|l| l.right_axis).collect();
    let left_stacked = if chart.stacked {
        stack(&left_lines)
    } else {
        Vec::new()
    };
    let right_stacked = if chart.stacked {
        stack(&right_lines)
    } else {
        Vec::new()
    };
    let values = |lines: &[&Line], stacked: &[Vec<(i64, f64)>], right: bool| -> Vec<f64> {
        let mut out: Vec<f64> = if stacked.is_empty() {
            lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .collect()
        } else {
            stacked.iter().flat_map(|s| s.iter().map(|p| p.1)).collect()
        };
        for a in chart.horizontal.iter().filter(|a| a.right_axis == right) {
            out.push(a.value);
            out.extend(a.band_to);
        }
        out
    };
    let (left_lo, left_hi) = y_range(
        values(&left_lines, &left_stacked, false).into_iter(),
        &chart.left,
    );
    let (right_lo, right_hi) = y_range(
        values(&right_lines, &right_stacked, true).into_iter(),
        &chart.right,
    );
    let has_right = !right_lines.is_empty() || chart.horizontal.iter().any(|a| a.right_axis);

    let (x0, x1) = (chart.start_ms, chart.end_ms.max(chart.start_ms + 1));
    let mut builder = ChartBuilder::on(&plot_area);
    builder
        .margin(6)
        .x_label_area_size(text_size + 10)
        .y_label_area_size(if chart.left.label.is_some() { 64 } else { 48 });
    if has_right {
        builder.right_y_label_area_size(48);
    }
    if let Some(title) = &chart.title {
        builder.caption(title, (FONT, text_size + 4));
    }
    let mut plot = builder
        .build_cartesian_2d(x0..x1, left_lo..left_hi)?
        .set_secondary_coord(x0..x1, right_lo..right_hi);

    let span = x1 - x0;
    let offset = chart.timezone_minutes;
    let format_time = |t: &i64| time_label(*t, offset, span);
    let format_value = |v: &f64| value_label(*v);
    let mut mesh = plot.configure_mesh();
    mesh.light_line_style(WHITE)
        .bold_line_style(RGBColor(0xe0, 0xe0, 0xe0))
        .label_style((FONT, text_size))
        .x_labels((width / 90).max(2) as usize)
        .y_labels((plot_height / 40).max(2) as usize)
        .x_label_formatter(&format_time)
        .y_label_formatter(&format_value);
    if let Some(label) = &chart.left.label {
        mesh.y_desc(label.as_str());
    }
    mesh.draw()?;
    if has_right {
        let mut secondary = plot.configure_secondary_axes();
        secondary
            .label_style((FONT, text_size))
            .y_labels((plot_height / 40).max(2) as usize)
            .y_label_formatter(&format_value);
        if let Some(label) = &chart.right.label {
            secondary.y_desc(label.as_str());
        }
        secondary.draw()?;
    }

    // Values far outside an axis would overflow the pixel arithmetic; a few axis heights out
    // they are off the plot all the same.
    let clip = |v: f64, right: bool| -> f64 {
        let (lo, hi) = if right {
            (right_lo, right_hi)
        } else {
            (left_lo, left_hi)
        };
        let pad = (hi - lo) * 4.0;
        v.clamp(lo - pad, hi + pad)
    };
    let clipped = |points: &[(i64, f64)], right: bool| -> Vec<(i64, f64)> {
        points.iter().map(|(t, v)| (*t, clip(*v, right))).collect()
    };

    // Annotation shading goes under the data, lines over it.
    for a in &chart.horizontal {
        let color = rgb(a.color.unwrap_or(ANNOTATION_DEFAULT));
        let (lo, hi) = if a.right_axis {
            (right_lo, right_hi)
        } else {
            (left_lo, left_hi)
        };
        let shade = match (a.band_to, a.fill) {
            (Some(to), _) => Some((a.value.min(to), a.value.max(to))),
            (None, Some(Fill::Above)) => Some((a.value, hi)),
            (None, Some(Fill::Below)) => Some((lo, a.value)),
            (None, None) => None,
        };
        if let Some((from, to)) = shade {
            let (from, to) = (clip(from, a.right_axis), clip(to, a.right_axis));
            let rect = Rectangle::new([(x0, from), (x1, to)], color.mix(0.15).filled());
            if a.right_axis {
                plot.draw_secondary_series(std::iter::once(rect))?;
            } else {
                plot.draw_series(std::iter::once(rect))?;
            }
        }
    }
    for a in &chart.vertical {
        let color = rgb(a.color.unwrap_or(ANNOTATION_DEFAULT));
        let shade = match (a.band_to, a.fill) {
            (Some(to), _) => Some((a.at_ms.min(to), a.at_ms.max(to))),
            (None, Some(Fill::Above)) => Some((a.at_ms, x1)),
            (None, Some(Fill::Below)) => Some((x0, a.at_ms)),
            (None, None) => None,
        };
        if let Some((from, to)) = shade {
            plot.draw_series(std::iter::once(Rectangle::new(
                [(from.max(x0), left_lo), (to.min(x1), left_hi)],
                color.mix(0.15).filled(),
            )))?;
        }
    }

    let series_color = |line: &Line| -> RGBColor {
        chart
            .lines
            .iter()
            .position(|l| std::ptr::eq(l, line))
            .map(|i| colors[i])
            .unwrap_or(BLACK)
    };
    if chart.stacked {
        // Highest cumulative series first so each lower band is painted over it.
        for (line, points) in left_lines.iter().zip(&left_stacked).rev() {
            let color = series_color(line);
            plot.draw_series(
                AreaSeries::new(
                    clipped(points, false),
                    clip(0.0, false),
                    tint(color).filled(),
                )
                .border_style(color),
            )?;
        }
        for (line, points) in right_lines.iter().zip(&right_stacked).rev() {
            let color = series_color(line);
            plot.draw_secondary_series(
                AreaSeries::new(clipped(points, true), clip(0.0, true), tint(color).filled())
                    .border_style(color),
            )?;
        }
    } else {
        for line in &left_lines {
            let style = series_color(line).stroke_width(2);
            plot.draw_series(LineSeries::new(clipped(&line.points, false), style))?;
        }
        for line in &right_lines {
            let style = series_color(line).stroke_width(2);
            plot.draw_secondary_series(LineSeries::new(clipped(&line.points, true), style))?;
        }
    }

    for a in &chart.horizontal {
        let color = rgb(a.color.unwrap_or(ANNOTATION_DEFAULT));
        let mut edges = vec![a.value];
        edges.extend(a.band_to);
        for value in edges {
            let value = clip(value, a.right_axis);
            let line = PathElement::new(vec![(x0, value), (x1, value)], color.stroke_width(1));
            if a.right_axis {
                plot.draw_secondary_series(std::iter::once(line))?;
            } else {
                plot.draw_series(std::iter::once(line))?;
            }
        }
        if let Some(label) = &a.label {
            let text = Text::new(
                label.clone(),
                (x0, clip(a.value, a.right_axis)),
                (FONT, text_size).into_font().color(&color),
            );
            if a.right_axis {
                plot.draw_secondary_series(std::iter::once(text))?;
            } else {
                plot.draw_series(std::iter::once(text))?;
            }
        }
    }
    for a in &chart.vertical {
        let color = rgb(a.color.unwrap_or(ANNOTATION_DEFAULT));
        let mut edges = vec![a.at_ms];
        edges.extend(a.band_to);
        for at in edges.into_iter().filter(|t| (x0..=x1).contains(t)) {
            plot.draw_series(std::iter::once(PathElement::new(
                vec![(at, left_lo), (at, left_hi)],
                color.stroke_width(1),
            )))?;
        }
        if let Some(label) = &a.label {
            if (x0..=x1).contains(&a.at_ms) {
                plot.draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (a.at_ms, left_hi),
                    (FONT, text_size).into_font().color(&color),
                )))?;
            }
        }
    }

    if chart.lines.iter().all(|l| l.points.is_empty()) {
        let (pw, ph) = plot_area.dim_in_pixel();
        let style = TextStyle::from((FONT, text_size + 2).into_font())
            .color(&RGBColor(0x70, 0x70, 0x70))
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
        plot_area.draw(&Text::new(
            "No data available.",
            ((pw / 2) as i32, (ph / 2) as i32),
            style,
        ))?;
    }

    let entry = |area: &DrawingArea<BitMapBackend<'_>, Shift>,
                 (x, y): (i32, i32),
                 i: usize|
     -> DrawResult {
        let box_size = text_size as i32 - 2;
        area.draw(&Rectangle::new(
            [(x, y + 2), (x + box_size, y + 2 + box_size)],
            colors[i].filled(),
        ))?;
        area.draw(&Text::new(
            chart.lines[i].label.clone(),
            (x + box_size + 4, y),
            (FONT, text_size)
                .into_font()
                .color(&RGBColor(0x44, 0x44, 0x44)),
        ))?;
        Ok(())
    };
    if legend_rows > 0 {
        let per_row = (width / 180).max(1) as usize;
        let column_width = (width as usize / per_row) as i32;
        for i in 0..chart.lines.len().min(per_row * legend_rows as usize) {
            let (row, col) = (i / per_row, i % per_row);
            entry(
                &legend_bottom,
                (
                    8 + col as i32 * column_width,
                    3 + row as i32 * (text_size as i32 + 6),
                ),
                i,
            )?;
        }
    }
    if legend_width > 0 {
        let rows = ((plot_height / (text_size + 6)) as usize).max(1);
        for i in 0..chart.lines.len().min(rows) {
            entry(&legend_right, (4, 8 + i as i32 * (text_size as i32 + 6)), i)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(lines: Vec<Line>) -> Chart {
        Chart {
            width: 600,
            height: 400,
            title: Some("Latency".into()),
            start_ms: 0,
            end_ms: 3 * 3_600_000,
            lines,
            ..Chart::default()
        }
    }

    fn line(label: &str, n: i64, scale: f64) -> Line {
        Line {
            label: label.into(),
            color: None,
            right_axis: false,
            points: (0..n)
                .map(|i| (i * 10_800, (i as f64 / 50.0).sin() * scale + scale))
                .collect(),
        }
    }

    fn ihdr(png: &[u8]) -> (u32, u32) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
        (w, h)
    }

    /// Decodes the image and counts pixels of exactly `color`.
    fn count_color(png_bytes: &[u8], color: (u8, u8, u8)) -> usize {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf[..info.buffer_size()]
            .chunks_exact(3)
            .filter(|p| (p[0], p[1], p[2]) == color)
            .count()
    }

    #[test]
    fn renders_lines_in_distinct_colors_at_the_requested_size() {
        let png = render_png(&chart(vec![line("a", 1000, 10.0), line("b", 1000, 20.0)])).unwrap();
        assert_eq!(ihdr(&png), (600, 400));
        assert!(count_color(&png, PALETTE[0]) > 100);
        assert!(count_color(&png, PALETTE[1]) > 100);
        assert_eq!(count_color(&png, PALETTE[2]), 0);
    }

    #[test]
    fn renders_empty_stacked_and_annotated_charts() {
        let empty = render_png(&Chart {
            width: 300,
            height: 200,
            ..chart(Vec::new())
        })
        .unwrap();
        assert_eq!(ihdr(&empty), (300, 200));

        let mut stacked = chart(vec![line("a", 100, 1.0), line("b", 100, 2.0)]);
        stacked.stacked = true;
        stacked.horizontal.push(HorizontalAnnotation {
            value: 3.0,
            band_to: None,
            label: Some("limit".into()),
            color: Some((0x00, 0x00, 0xff)),
            fill: Some(Fill::Above),
            right_axis: false,
        });
        stacked.legend = LegendPosition::Right;
        let png = render_png(&stacked).unwrap();
        assert_eq!(ihdr(&png), (600, 400));
        // The annotation line is drawn in its own color.
        assert!(count_color(&png, (0, 0, 255)) > 100);
    }

    #[test]
    fn tiny_images_do_not_fail() {
        let png = render_png(&Chart {
            width: 1,
            height: 1,
            ..chart(vec![line("a", 10, 1.0)])
        });
        assert_eq!(ihdr(&png.unwrap()), (1, 1));
    }

    #[test]
    fn three_series_of_a_thousand_points_render_quickly() {
        let c = chart(vec![
            line("a", 1000, 1.0),
            line("b", 1000, 2.0),
            line("c", 1000, 3.0),
        ]);
        render_png(&c).unwrap();
        let started = std::time::Instant::now();
        for _ in 0..5 {
            render_png(&c).unwrap();
        }
        let each = started.elapsed() / 5;
        eprintln!("render: {each:?} per image");
        // Generous bound for unoptimised test builds on a loaded machine.
        assert!(each < std::time::Duration::from_millis(500), "{each:?}");
    }

    #[test]
    fn extreme_axis_ranges_are_made_drawable() {
        assert_eq!(drawable_range(0.0, 10.0), (0.0, 10.0));
        let (lo, hi) = drawable_range(5.0, 5.0);
        assert!(lo < 5.0 && hi > 5.0);
        let (lo, hi) = drawable_range(-f64::MAX, f64::INFINITY);
        assert!(lo.is_finite() && hi.is_finite() && hi > lo);
        let (lo, hi) = drawable_range(1e15, 1e15 + 0.001);
        assert!(hi - lo >= 1e6 * 0.99, "{lo} {hi}");
        let mut huge = chart(vec![Line {
            label: "huge".into(),
            color: None,
            right_axis: false,
            points: vec![(0, 1e200), (3_600_000, -1e200), (7_200_000, 1e15)],
        }]);
        huge.left.min = Some(10.0);
        huge.left.max = Some(10.0);
        assert_eq!(ihdr(&render_png(&huge).unwrap()), (600, 400));
    }

    #[test]
    fn value_labels_are_short() {
        assert_eq!(value_label(0.0), "0");
        assert_eq!(value_label(12.5), "12.5");
        assert_eq!(value_label(25_000.0), "25k");
        assert_eq!(value_label(3_500_000.0), "3.5M");
    }
}
