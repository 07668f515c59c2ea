//! The chart of docs/BENCHMARKS.md: throughput against store size, per store and operation.

use crate::{Case, Results, STORES};
use plotters::prelude::*;
use std::path::Path;

/// Draws get and set throughput (100 B values, durability off) against the store's size, one
/// line per store and operation, log scales, into an SVG at `path`.
pub fn throughput(cases: &[(Case, [Results; 4])], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let picked: Vec<&(Case, [Results; 4])> = cases.iter().filter(|(c, _)| !c.durable && c.value_size == 100).collect();
    let sizes: Vec<usize> = picked.iter().map(|(c, _)| c.store_keys).collect();
    let (min_size, max_size) = (*sizes.iter().min().ok_or("no case to chart")? as f64, *sizes.iter().max().ok_or("no case")? as f64);
    let mut series = Vec::new();
    for op in ["get", "set"] {
        for (store, name) in STORES.iter().enumerate() {
            let points: Vec<(f64, f64)> = picked
                .iter()
                .filter_map(|(c, r)| r[store].get(op).map(|s| (c.store_keys as f64, s.ops_per_sec())))
                .collect();
            if !points.is_empty() {
                series.push((format!("{op}: {name}"), store, op, points));
            }
        }
    }
    let max_rate = series.iter().flat_map(|(_, _, _, p)| p.iter().map(|(_, y)| *y)).fold(1.0, f64::max);
    let min_rate = series.iter().flat_map(|(_, _, _, p)| p.iter().map(|(_, y)| *y)).fold(f64::MAX, f64::min);

    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Throughput against store size (100 B values, durability off)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((min_size * 0.8..max_size * 1.25).log_scale(), (min_rate * 0.5..max_rate * 2.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("keys in the store")
        .y_desc("operations per second")
        .draw()?;
    let colors = [RED, BLUE, GREEN, BLACK];
    for (label, store, op, points) in series {
        let color = colors[store];
        let style = if op == "get" { color.stroke_width(2) } else { color.stroke_width(1) };
        chart
            .draw_series(LineSeries::new(points.clone(), style))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        if op == "set" {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        }
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}
