//! A grid of test digits, each captioned with its true and predicted class and the model's
//! confidence: the misclassified digits of a run, or `lab10 predict`'s samples.

use plotters::coord::Shift;
use plotters::prelude::*;

use lab10_data::IMAGE_SIDE;
use lab10_experiment::Prediction;

use crate::render::{Drawing, err};

pub struct DigitGrid {
    pub title: String,
    /// Each shown digit (`index` unused).
    pub digits: Vec<Prediction>,
    pub columns: usize,
    /// Class names by label (digits for MNIST, `Ankle boot` for Fashion-MNIST).
    pub classes: [&'static str; 10],
}

const SCALE: i32 = 3;
const TOP: i32 = 36;

impl DigitGrid {
    fn rows(&self) -> usize {
        self.digits.len().div_ceil(self.columns).max(1)
    }

    fn cell(&self) -> (i32, i32) {
        let side = IMAGE_SIDE as i32 * SCALE;
        // Class names get wider cells and a line each.
        if crate::named(&self.classes) {
            (side + 46, side + 50)
        } else {
            (side + 16, side + 34)
        }
    }
}

impl Drawing for DigitGrid {
    fn size(&self) -> (u32, u32) {
        let (w, h) = self.cell();
        (
            (self.columns.max(1) as i32 * w + 8) as u32,
            (self.rows() as i32 * h + TOP + 8) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        area.draw(&Text::new(self.title.clone(), (8, 8), ("sans-serif", 18)))
            .map_err(err)?;
        if self.digits.is_empty() {
            return area
                .draw(&Text::new("(none)", (8, TOP + 8), ("sans-serif", 16)))
                .map_err(err);
        }
        let (cell_w, cell_h) = self.cell();
        for (i, d) in self.digits.iter().enumerate() {
            let x0 = 8 + (i % self.columns) as i32 * cell_w;
            let y0 = TOP + (i / self.columns) as i32 * cell_h;
            for (p, &v) in d.pixels.iter().enumerate() {
                if v == 0 {
                    continue;
                }
                let (r, c) = ((p / IMAGE_SIDE) as i32, (p % IMAGE_SIDE) as i32);
                let ink = 255 - v;
                area.draw(&Rectangle::new(
                    [
                        (x0 + c * SCALE, y0 + r * SCALE),
                        (x0 + (c + 1) * SCALE, y0 + (r + 1) * SCALE),
                    ],
                    RGBColor(ink, ink, ink).filled(),
                ))
                .map_err(err)?;
            }
            let side = IMAGE_SIDE as i32 * SCALE;
            area.draw(&Rectangle::new(
                [(x0, y0), (x0 + side, y0 + side)],
                BLACK.mix(0.25),
            ))
            .map_err(err)?;
            let colour = if d.actual == d.predicted {
                RGBColor(0, 110, 0)
            } else {
                RGBColor(190, 0, 0)
            };
            let name = |c: u8| self.classes[c as usize];
            let lines = if crate::named(&self.classes) {
                vec![
                    (format!("true {}", name(d.actual)), colour),
                    (format!("pred {}", name(d.predicted)), colour),
                ]
            } else {
                vec![(
                    format!("true {}  pred {}", name(d.actual), name(d.predicted)),
                    colour,
                )]
            };
            let sure = (format!("{:.1}% sure", 100.0 * d.confidence), BLACK);
            for (k, (text, colour)) in lines.into_iter().chain([sure]).enumerate() {
                area.draw(&Text::new(
                    text,
                    (x0, y0 + side + 3 + 14 * k as i32),
                    ("sans-serif", 12).into_font().color(&colour),
                ))
                .map_err(err)?;
            }
        }
        Ok(())
    }
}
