//! Server-side SVG charts (plotters' SVG backend): no JavaScript and no external asset, so a
//! page works on a district office's old laptop, on a phone, and in a data centre without
//! internet. The charts repeat figures that the page's tables also show as text.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordi32;
use plotters::prelude::*;

const W: u32 = 720;
const H: u32 = 240;

fn short(date: &str) -> String {
    date.get(5..).unwrap_or(date).to_string()
}

/// A chart with one point per day on the x axis (`labels` are `YYYY-MM-DD`, shown as
/// `MM-DD`), the y axis over `y` with its labels made by `y_label`, and the series `draw`
/// puts on it; an empty string if drawing fails (the page's table still has the figures).
fn day_chart<Y>(
    labels: &[String],
    y: Y,
    y_label: &dyn Fn(&Y::Value) -> String,
    draw: impl FnOnce(
        &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordi32, Y::CoordDescType>>,
    ) -> Result<(), String>,
) -> String
where
    Y: AsRangedCoord,
    Y::CoordDescType: ValueFormatter<Y::Value>,
{
    let mut svg = String::new();
    let n = labels.len().max(1) as i32;
    let drawn = (|| -> Result<(), String> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0..n, y)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(8)
            .x_label_formatter(&|x| {
                labels
                    .get(*x as usize)
                    .map(|s| short(s))
                    .unwrap_or_default()
            })
            .y_labels(5)
            .y_label_formatter(y_label)
            .draw()
            .map_err(|e| e.to_string())?;
        draw(&mut chart)?;
        root.present().map_err(|e| e.to_string())
    })();
    if drawn.is_err() {
        return String::new();
    }
    svg
}

/// Bars of one count per day (`labels` are `YYYY-MM-DD`).
pub fn bars(labels: &[String], values: &[i64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    day_chart(
        labels,
        0..(max + max / 10 + 1),
        &|y| y.to_string(),
        |chart| {
            chart
                .draw_series(values.iter().enumerate().map(|(i, v)| {
                    let i = i as i32;
                    Rectangle::new([(i, 0), (i + 1, *v)], RGBColor(31, 119, 180).filled())
                }))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    )
}

/// A line of one percentage per day.
pub fn percent_line(labels: &[String], values: &[f64]) -> String {
    day_chart(labels, 0f64..100f64, &|y| format!("{y:.0}%"), |chart| {
        chart
            .draw_series(LineSeries::new(
                values.iter().enumerate().map(|(i, v)| (i as i32, *v)),
                RGBColor(44, 160, 44).stroke_width(2),
            ))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg() {
        let labels: Vec<String> = (1..=3).map(|d| format!("2026-01-0{d}")).collect();
        let s = bars(&labels, &[1, 5, 2]);
        assert!(s.starts_with("<svg"), "{s}");
        assert!(s.contains("<rect"));
        let l = percent_line(&labels, &[10.0, 50.0, 100.0]);
        assert!(l.contains("<polyline") || l.contains("<path"), "{l}");
    }
}
