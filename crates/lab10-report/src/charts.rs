//! Per-epoch curves of several runs on one chart: training (dashed) and test/validation
//! (solid) in one colour per run, so that an overfitting gap shows as two diverging lines.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::{Drawing, err};

/// Which metric a chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Loss,
    Accuracy,
}

/// One run's curves: (epoch, train value, valid value).
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64, f64)>,
}

pub struct Curves {
    pub metric: Metric,
    pub valid_label: String,
    pub series: Vec<Series>,
}

/// Colours that stay apart for up to ten runs.
pub fn colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    PALETTE[i % PALETTE.len()]
}

impl Drawing for Curves {
    fn size(&self) -> (u32, u32) {
        (900, 520)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let values = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().flat_map(|&(_, a, b)| [a, b]))
            .filter(|v| v.is_finite());
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let epochs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(1.0f64, f64::max);
        let x = 1.0..epochs.max(2.0);
        // One label per epoch, printed as the whole number it is.
        let x_labels = (epochs.max(2.0) as usize).min(20);
        let what = match self.metric {
            Metric::Loss => "Loss per epoch",
            Metric::Accuracy => "Accuracy per epoch, %",
        };
        let title = format!("{what} (dashed: train, solid: {})", self.valid_label);
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64);
        match self.metric {
            // Losses span orders of magnitude (nn's 12 vs dropout's 0.06): a log axis shows all.
            Metric::Loss => {
                let y = (lo.max(1e-4) * 0.8)..(hi.max(lo * 2.0) * 1.25);
                let mut chart = builder.build_cartesian_2d(x, y.log_scale()).map_err(err)?;
                chart
                    .configure_mesh()
                    .x_desc("epoch")
                    .x_labels(x_labels)
                    .x_label_formatter(&|v| format!("{v:.0}"))
                    .y_desc("cross-entropy (log scale)")
                    .y_label_formatter(&|v| short(*v))
                    .draw()
                    .map_err(err)?;
                self.lines(&mut chart)?;
                legend(&mut chart, SeriesLabelPosition::UpperRight)
            }
            Metric::Accuracy => {
                let y = (lo - 1.0).max(0.0)..(hi + 0.5).min(100.0);
                let mut chart = builder.build_cartesian_2d(x, y).map_err(err)?;
                chart
                    .configure_mesh()
                    .x_desc("epoch")
                    .x_labels(x_labels)
                    .x_label_formatter(&|v| format!("{v:.0}"))
                    .y_desc("accuracy (%)")
                    .draw()
                    .map_err(err)?;
                self.lines(&mut chart)?;
                // Accuracy curves climb to the top: keep the legend out of their way.
                legend(&mut chart, SeriesLabelPosition::LowerRight)
            }
        }
    }
}

impl Curves {
    fn lines<'a, DB: DrawingBackend + 'a, X, Y>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ) -> Result<(), String>
    where
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    {
        for (i, s) in self.series.iter().enumerate() {
            let c = colour(i);
            let finite = |v: f64| v.is_finite();
            chart
                .draw_series(DashedLineSeries::new(
                    s.points.iter().filter(|p| finite(p.1)).map(|p| (p.0, p.1)),
                    6,
                    4,
                    c.stroke_width(2),
                ))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().filter(|p| finite(p.2)).map(|p| (p.0, p.2)),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(&s.label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
        }
        Ok(())
    }
}

/// A tick value with two significant digits and no float noise: `0.05`, `1.5`, `12`, `2e-4`.
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-3..6).contains(&magnitude) {
        return format!("{v:.1e}");
    }
    let decimals = (1 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tick_labels_are_short_and_exact_looking() {
        use super::short;
        assert_eq!(short(0.30000000000000004), "0.3");
        assert_eq!(short(0.05), "0.05");
        assert_eq!(short(12.4), "12");
        assert_eq!(short(1.5), "1.5");
        assert_eq!(short(0.002), "0.002");
        assert_eq!(short(0.0002), "2.0e-4");
    }
}
