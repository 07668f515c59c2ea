//! The chart of docs/BENCHMARKS.md: throughput against store size, per store and operation.

use crate::report::{CaseResult, STORES};
use plotters::prelude::*;
use std::path::Path;

/// Draws get and set throughput (the smallest values, durability off) against the store's
/// size, one line per store and operation, on log scales, into an SVG at `path`.
pub fn throughput(cases: &[CaseResult], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let value = cases
        .iter()
        .map(|c| c.case.value)
        .min()
        .ok_or("no case to chart")?;
    let picked: Vec<&CaseResult> = cases
        .iter()
        .filter(|c| !c.case.durable && c.case.value == value)
        .collect();
    let sizes: Vec<f64> = picked.iter().map(|c| c.case.keys as f64).collect();
    let (min_size, max_size) = (
        sizes.iter().copied().fold(f64::MAX, f64::min),
        sizes.iter().copied().fold(0.0, f64::max),
    );
    let mut series = Vec::new();
    for op in ["get", "set"] {
        for (store, name) in STORES.iter().enumerate() {
            let points: Vec<(f64, f64)> = picked
                .iter()
                .filter_map(|c| {
                    c.stores[store]
                        .get(op)
                        .map(|s| (c.case.keys as f64, s.ops_per_sec()))
                })
                .collect();
            if !points.is_empty() {
                series.push((format!("{op}: {name}"), store, op, points));
            }
        }
    }
    let rates = || {
        series
            .iter()
            .flat_map(|(_, _, _, p)| p.iter().map(|(_, y)| *y))
    };
    let (min_rate, max_rate) = (
        rates().fold(f64::MAX, f64::min),
        rates().fold(1.0, f64::max),
    );

    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Throughput against store size ({} values, durability off)",
                crate::report::bytes(value)
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (min_size * 0.7..max_size * 1.4).log_scale(),
            (min_rate * 0.5..max_rate * 2.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("keys in the store")
        .y_desc("operations per second (one at a time)")
        .draw()?;
    let colors = [RED, BLUE, GREEN, BLACK];
    for (label, store, op, points) in series {
        let color = colors[store];
        let style = if op == "get" {
            color.stroke_width(2)
        } else {
            color.stroke_width(1)
        };
        chart
            .draw_series(LineSeries::new(points.clone(), style))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        if op == "set" {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
