//! Server-side SVG charts (plotters' SVG backend): no JavaScript and no external asset, so a
//! page works on a district office's old laptop, on a phone, and in a data centre without
//! internet. The charts repeat figures that the page's tables also show as text.

use plotters::prelude::*;

const W: u32 = 720;
const H: u32 = 240;

fn short(date: &str) -> String {
    date.get(5..).unwrap_or(date).to_string()
}

/// Bars of one count per day (`labels` are `YYYY-MM-DD`).
pub fn bars(labels: &[String], values: &[i64]) -> String {
    let mut svg = String::new();
    let n = values.len().max(1) as i32;
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0..n, 0..(max + max / 10 + 1))?;
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
            .draw()?;
        chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let i = i as i32;
            Rectangle::new([(i, 0), (i + 1, *v)], RGBColor(31, 119, 180).filled())
        }))?;
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() {
        return String::new();
    }
    svg
}

/// A line of one percentage per day.
pub fn percent_line(labels: &[String], values: &[f64]) -> String {
    let mut svg = String::new();
    let n = values.len().max(1) as i32;
    let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0..n, 0f64..100f64)?;
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
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .draw()?;
        chart.draw_series(LineSeries::new(
            values.iter().enumerate().map(|(i, v)| (i as i32, *v)),
            RGBColor(44, 160, 44).stroke_width(2),
        ))?;
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() {
        return String::new();
    }
    svg
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
