//! The confusion matrix of a run's test predictions, and its heat map.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use lab10_data::NUM_CLASSES;

use crate::render::{Drawing, err};

/// `counts[actual][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    pub counts: [[usize; NUM_CLASSES]; NUM_CLASSES],
}

impl ConfusionMatrix {
    pub fn new(labels: &[u8], predictions: &[u8]) -> Self {
        let mut counts = [[0; NUM_CLASSES]; NUM_CLASSES];
        for (&a, &p) in labels.iter().zip(predictions) {
            counts[a as usize][p as usize] += 1;
        }
        Self { counts }
    }

    /// Test images of each digit (each row's sum).
    pub fn row_totals(&self) -> [usize; NUM_CLASSES] {
        self.counts.map(|row| row.iter().sum())
    }
}

pub struct Heatmap<'a> {
    pub title: String,
    pub matrix: &'a ConfusionMatrix,
    /// Axis labels by class (digits for MNIST, names for Fashion-MNIST).
    pub classes: [&'static str; NUM_CLASSES],
}

impl Heatmap<'_> {
    /// Room for the longest class name beside the rows and under the columns.
    fn label_room(&self) -> u32 {
        let longest = self.classes.iter().map(|c| c.len()).max().unwrap_or(1) as u32;
        40 + 7 * longest.saturating_sub(1)
    }
}

/// Diagonal cells in blue, mistakes in red, shaded by their share of the row (mistakes
/// amplified, so that rare confusions still show).
fn cell_colour(share: f64, diagonal: bool) -> RGBColor {
    if diagonal {
        RGBColor(
            (255.0 * (1.0 - share)) as u8,
            (255.0 * (1.0 - 0.6 * share)) as u8,
            255,
        )
    } else {
        let s = (share * 20.0).min(1.0);
        RGBColor(255, (255.0 * (1.0 - s)) as u8, (255.0 * (1.0 - s)) as u8)
    }
}

impl Drawing for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        let extra = self.label_room() - 40;
        (560 + extra, 600 + extra)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        // Cell (actual a, predicted p) is centred on (p, 9 - a): digit labels sit under the
        // middle of each row and column, with 0 at the top left as in the usual layout.
        let n = NUM_CLASSES as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(self.label_room())
            .y_label_area_size(self.label_room() + 10)
            .build_cartesian_2d(-0.5..n - 0.5, -0.5..n - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted")
            .y_desc("actual")
            .x_labels(NUM_CLASSES)
            .y_labels(NUM_CLASSES)
            .axis_desc_style(("sans-serif", 14))
            // Long class names are drawn below, turned to read downwards; digits fit as they are.
            .x_label_formatter(&|v| {
                if crate::named(&self.classes) {
                    String::new()
                } else {
                    self.classes[(v.round() as usize).min(9)].to_string()
                }
            })
            .y_label_formatter(&|v| {
                self.classes[((n - 1.0 - v).round() as usize).min(9)].to_string()
            })
            .draw()
            .map_err(err)?;
        if crate::named(&self.classes) {
            for (p, name) in self.classes.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(p as f64, -0.5));
                let style = ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .transform(FontTransform::Rotate90);
                area.draw(&Text::new(name.to_string(), (x + 6, y + 10), style))
                    .map_err(err)?;
            }
        }
        let totals = self.matrix.row_totals();
        let cells = (0..NUM_CLASSES).flat_map(|a| (0..NUM_CLASSES).map(move |p| (a, p)));
        let centre = |a: usize, p: usize| (p as f64, n - 1.0 - a as f64);
        chart
            .draw_series(cells.clone().map(|(a, p)| {
                let share = self.matrix.counts[a][p] as f64 / totals[a].max(1) as f64;
                let colour = cell_colour(share, a == p);
                let (x, y) = centre(a, p);
                Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], colour.filled())
            }))
            .map_err(err)?;
        chart
            .draw_series(cells.map(|(a, p)| {
                let count = self.matrix.counts[a][p];
                let (x, y) = centre(a, p);
                let style = ("sans-serif", 13)
                    .into_font()
                    .color(if a == p { &WHITE } else { &BLACK })
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let text = (count > 0).then(|| count.to_string()).unwrap_or_default();
                Text::new(text, (x, y), style)
            }))
            .map_err(err)?;
        Ok(())
    }
}
