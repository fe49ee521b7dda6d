//! One drawing, two files: the same plotters code renders to SVG text and to a PNG image.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

/// The font ships with the crate (DejaVu Sans), so PNG text renders without system fonts.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            panic!("the shipped font is a valid TrueType file");
        }
    });
}

/// Something drawn the same way on any plotters backend.
pub trait Drawing {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// A picture as both SVG text and PNG bytes.
pub struct Picture {
    pub svg: String,
    pub png: Vec<u8>,
}

/// Turns a plotters error (generic over the backend) into text.
pub fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn paint<DB: DrawingBackend>(backend: DB, drawing: &impl Drawing) -> Result<(), String> {
    let area = backend.into_drawing_area();
    area.fill(&WHITE).map_err(err)?;
    drawing.draw(&area)?;
    area.present().map_err(err)
}

pub fn render(drawing: &impl Drawing) -> Result<Picture, String> {
    register_font();
    let (w, h) = drawing.size();
    let mut svg = String::new();
    paint(SVGBackend::with_string(&mut svg, (w, h)), drawing)?;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    paint(BitMapBackend::with_buffer(&mut rgb, (w, h)), drawing)?;
    let image = image::RgbImage::from_raw(w, h, rgb).ok_or("bitmap size")?;
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(err)?;
    Ok(Picture { svg, png })
}
