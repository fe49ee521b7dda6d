//! lab10-image's preparation of a drawing (crates/lab10-image), checked on real MNIST digits:
//! here because reading them is this crate's job, and lab10-image depends on nothing.

use std::path::Path;

use lab10_data::{IMAGE_PIXELS, IMAGE_SIDE as SIDE, Mnist, Split};
use lab10_image::mnistify;

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
fn a_real_mnist_digit_survives_the_round_trip() {
    // An MNIST digit is already a 20x20-box digit centred by mass: drawn 10x larger on a
    // canvas and prepared again, it comes back as itself, up to a one-pixel shift (MNIST's
    // own centring rounded differently) and the resampling of its anti-aliased edge.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let (test, _) = Mnist::read(&dir, Split::Test).unwrap();
    for index in 0..20 {
        let digit: Vec<f32> = test
            .image(index)
            .iter()
            .map(|&p| p as f32 / 255.0)
            .collect();
        let mut ink = vec![0f32; 280 * 280];
        for y in 0..280 {
            for x in 0..280 {
                ink[y * 280 + x] = digit[(y / 10) * SIDE + x / 10];
            }
        }
        let back = mnistify(&ink, 280, 280).unwrap();
        let (cx, cy) = centre_of_mass(&back);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "({cx}, {cy})"
        );
        let mass: f32 = digit.iter().sum();
        let best = (-1i32..=1)
            .flat_map(|dy| (-1i32..=1).map(move |dx| (dx, dy)))
            .map(|(dx, dy)| {
                let mut diff = 0.0;
                for y in 0..SIDE as i32 {
                    for x in 0..SIDE as i32 {
                        let (sx, sy) = (x + dx, y + dy);
                        let shifted =
                            if (0..SIDE as i32).contains(&sx) && (0..SIDE as i32).contains(&sy) {
                                back[sy as usize * SIDE + sx as usize]
                            } else {
                                0.0
                            };
                        diff += (digit[y as usize * SIDE + x as usize] - shifted).abs();
                    }
                }
                diff / mass
            })
            .fold(f32::INFINITY, f32::min);
        assert!(
            best < 0.35,
            "test image {index}: relative L1 difference {best}"
        );
    }
}
