//! A drawing turned into MNIST's format, the way MNIST was made (LeCun et al.): the ink's
//! bounding box, scaled to fit 20x20 keeping its aspect ratio, anti-aliased (each output pixel
//! is the mean of the input area it covers), then placed in 28x28 so that its centre of mass
//! sits at the centre. This is the only place lab10 does it.

use crate::{IMAGE_PIXELS, IMAGE_SIDE as SIDE};

/// The side of the box the digit is scaled into.
pub const BOX: usize = 20;

/// A canvas's ink as a browser gives it (`width * height` values, 0 = paper to 255 = ink, row by
/// row: a canvas's alpha channel) in MNIST's format; `None` for a blank canvas. `lab10 serve`'s
/// `lab10 serve`'s `/api/predict` calls this.
pub fn mnistify_canvas(ink: &[f64], width: usize, height: usize) -> Option<Vec<f32>> {
    let ink: Vec<f32> = ink.iter().map(|&v| (v / 255.0) as f32).collect();
    mnistify(&ink, width, height)
}

/// `ink` is `width * height` intensities, row by row, 0 (paper) to 1 (ink). Returns 784 values
/// in [0, 1], or `None` when there is no ink at all.
pub fn mnistify(ink: &[f32], width: usize, height: usize) -> Option<Vec<f32>> {
    assert_eq!(ink.len(), width * height, "ink must be width x height");
    // 1. The ink's bounding box.
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..height {
        for x in 0..width {
            if ink[y * width + x] > 0.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    if x0 == usize::MAX {
        return None;
    }
    let (bw, bh) = (x1 - x0, y1 - y0);

    // 2. Scale into 20x20 keeping the aspect ratio; area-averaging resampling anti-aliases.
    let scale = BOX as f64 / bw.max(bh) as f64;
    let ow = ((bw as f64 * scale).round() as usize).clamp(1, BOX);
    let oh = ((bh as f64 * scale).round() as usize).clamp(1, BOX);
    let mut small = vec![0f32; ow * oh];
    for oy in 0..oh {
        let (sy0, sy1) = (
            oy as f64 * bh as f64 / oh as f64,
            (oy + 1) as f64 * bh as f64 / oh as f64,
        );
        for ox in 0..ow {
            let (sx0, sx1) = (
                ox as f64 * bw as f64 / ow as f64,
                (ox + 1) as f64 * bw as f64 / ow as f64,
            );
            small[oy * ow + ox] = area_mean(ink, width, x0, y0, (sx0, sx1), (sy0, sy1));
        }
    }

    // 3. Centre of mass (pixel centres at +0.5) moved to the image's centre, by whole pixels
    //    as MNIST did, keeping the box inside the image.
    let mass: f64 = small.iter().map(|&v| v as f64).sum();
    let (mut cx, mut cy) = (0.0, 0.0);
    for oy in 0..oh {
        for ox in 0..ow {
            let v = small[oy * ow + ox] as f64;
            cx += v * (ox as f64 + 0.5);
            cy += v * (oy as f64 + 0.5);
        }
    }
    let (cx, cy) = (cx / mass, cy / mass);
    let half = SIDE as f64 / 2.0;
    let left = ((half - cx).round() as isize).clamp(0, (SIDE - ow) as isize) as usize;
    let top = ((half - cy).round() as isize).clamp(0, (SIDE - oh) as isize) as usize;
    let mut out = vec![0f32; IMAGE_PIXELS];
    for oy in 0..oh {
        for ox in 0..ow {
            out[(top + oy) * SIDE + left + ox] = small[oy * ow + ox].clamp(0.0, 1.0);
        }
    }
    Some(out)
}

/// The mean of `ink` over the rectangle [sx0, sx1) x [sy0, sy1) of the bounding box that starts
/// at (x0, y0), weighting each input pixel by the part of it the rectangle covers.
fn area_mean(
    ink: &[f32],
    width: usize,
    x0: usize,
    y0: usize,
    (sx0, sx1): (f64, f64),
    (sy0, sy1): (f64, f64),
) -> f32 {
    let (mut sum, mut area) = (0.0, 0.0);
    for y in sy0.floor() as usize..sy1.ceil() as usize {
        let wy = (sy1.min(y as f64 + 1.0) - sy0.max(y as f64)).max(0.0);
        for x in sx0.floor() as usize..sx1.ceil() as usize {
            let wx = (sx1.min(x as f64 + 1.0) - sx0.max(x as f64)).max(0.0);
            sum += wx * wy * ink[(y0 + y) * width + x0 + x] as f64;
            area += wx * wy;
        }
    }
    (sum / area) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas(w: usize, h: usize, rect: (usize, usize, usize, usize)) -> Vec<f32> {
        let (x0, y0, x1, y1) = rect;
        let mut ink = vec![0f32; w * h];
        for y in y0..y1 {
            for x in x0..x1 {
                ink[y * w + x] = 1.0;
            }
        }
        ink
    }

    fn bbox(img: &[f32]) -> (usize, usize, usize, usize) {
        let on: Vec<(usize, usize)> = (0..IMAGE_PIXELS)
            .filter(|&i| img[i] > 0.0)
            .map(|i| (i % SIDE, i / SIDE))
            .collect();
        let xs = on.iter().map(|p| p.0);
        let ys = on.iter().map(|p| p.1);
        (
            xs.clone().min().unwrap(),
            ys.clone().min().unwrap(),
            xs.max().unwrap() + 1,
            ys.max().unwrap() + 1,
        )
    }

    fn centre_of_mass(img: &[f32]) -> (f64, f64) {
        let m: f64 = img.iter().map(|&v| v as f64).sum();
        let (mut x, mut y) = (0.0, 0.0);
        for (i, &v) in img.iter().enumerate().take(IMAGE_PIXELS) {
            x += v as f64 * ((i % SIDE) as f64 + 0.5);
            y += v as f64 * ((i / SIDE) as f64 + 0.5);
        }
        (x / m, y / m)
    }

    #[test]
    fn blank_canvas_has_no_digit() {
        assert!(mnistify(&vec![0.0; 280 * 280], 280, 280).is_none());
    }

    #[test]
    fn a_tall_stroke_fills_20_rows_keeps_its_aspect_and_is_centred() {
        // A 20 x 200 bar near the top-left corner of a 280x280 canvas.
        let img = mnistify(&canvas(280, 280, (10, 5, 30, 205)), 280, 280).unwrap();
        let (x0, y0, x1, y1) = bbox(&img);
        assert_eq!(y1 - y0, BOX, "height scaled to the box");
        assert_eq!(x1 - x0, 2, "width scaled by the same factor (20 * 20/200)");
        let (cx, cy) = centre_of_mass(&img);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "({cx}, {cy})"
        );
        assert!(img.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn position_on_the_canvas_does_not_matter() {
        let a = mnistify(&canvas(280, 280, (0, 0, 100, 140)), 280, 280).unwrap();
        let b = mnistify(&canvas(280, 280, (170, 130, 270, 270)), 280, 280).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn downscaling_anti_aliases() {
        // A 1-pixel-wide line, 100 long: 5 input pixels per output row, 1/5 of each covered.
        let img = mnistify(&canvas(280, 280, (50, 50, 51, 150)), 280, 280).unwrap();
        let values: Vec<f32> = img.iter().copied().filter(|&v| v > 0.0).collect();
        assert_eq!(values.len(), BOX, "one column of 20 pixels");
        assert!(
            values.iter().all(|&v| (v - 1.0).abs() < 1e-6),
            "a 1-wide box keeps full ink"
        );
        // A 30-wide square: each output pixel averages 1.5 x 1.5 input pixels, edges partial.
        let mut ink = vec![0f32; 280 * 280];
        for y in 100..130 {
            for x in 100..130 {
                ink[y * 280 + x] = if (x + y) % 2 == 0 { 1.0 } else { 0.0 };
            }
        }
        let img = mnistify(&ink, 280, 280).unwrap();
        let inside: Vec<f32> = img.iter().copied().filter(|&v| v > 0.0).collect();
        assert!(
            inside.iter().all(|&v| v > 0.2 && v < 0.8),
            "a checkerboard averages to grey, not black and white: {inside:?}"
        );
    }
}
