//! The lab models as Burn modules: parameter counts, initialiser statistics, dropout.

use burn::prelude::*;
use lab10_experiment::{BackendKind, ExperimentCatalog};
use lab10_models::{ActivationKind, Init, Mlp, MlpConfig};

fn device() -> Device {
    BackendKind::Flex.device().unwrap()
}

fn catalog() -> ExperimentCatalog {
    ExperimentCatalog {
        dir: concat!(env!("CARGO_MANIFEST_DIR"), "/experiments").into(),
    }
}

fn config(hidden: Vec<usize>, weight_init: Init, bias_init: Init) -> MlpConfig {
    MlpConfig {
        inputs: 784,
        hidden,
        classes: 10,
        activation: ActivationKind::Relu,
        weight_init,
        bias_init,
        dropout: 0.0,
    }
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[test]
fn parameter_counts_match_the_lesson_and_burn() {
    let expected = [
        ("softmax", 7_850),
        ("nn", 269_322),
        ("xavier", 269_322),
        ("deep", 1_195_018),
        ("dropout", 1_195_018),
    ];
    for (name, params) in expected {
        let e = catalog().get(name).unwrap();
        assert_eq!(e.model.num_params(), params, "{name} (from the config)");
        let model: Mlp = e.model.init(&device());
        assert_eq!(model.num_params(), params, "{name} (Burn's count)");
    }
}

#[test]
fn xavier_normal_has_the_glorot_std_and_separate_bias_init() {
    let cfg = config(vec![256], Init::XavierNormal { gain: 1.0 }, Init::Zeros);
    let model = cfg.init(&device());
    let w = values(model.hidden[0].weight.val());
    let (mean, std) = mean_std(&w);
    let expected = (2.0f64 / (784.0 + 256.0)).sqrt();
    assert!(mean.abs() < 0.002, "mean {mean}");
    assert!(
        (std / expected - 1.0).abs() < 0.02,
        "std {std}, expected {expected}"
    );
    let b = values(model.hidden[0].bias.as_ref().unwrap().val());
    assert!(b.iter().all(|&x| x == 0.0), "zeros bias");
}

#[test]
fn normal_init_has_std_one_for_weights_and_biases() {
    let one = Init::Normal {
        mean: 0.0,
        std: 1.0,
    };
    let model = config(vec![512], one.clone(), one).init(&device());
    let (mean, std) = mean_std(&values(model.hidden[0].weight.val()));
    assert!(
        mean.abs() < 0.01 && (std - 1.0).abs() < 0.01,
        "mean {mean} std {std}"
    );
    let (_, bias_std) = mean_std(&values(model.hidden[0].bias.as_ref().unwrap().val()));
    assert!((bias_std - 1.0).abs() < 0.15, "bias std {bias_std}");
}

#[test]
fn xavier_uniform_and_kaiming_normal_have_their_spreads() {
    let model = config(vec![256], Init::XavierUniform { gain: 1.0 }, Init::Zeros).init(&device());
    let w = values(model.hidden[0].weight.val());
    let limit = (6.0f64 / (784.0 + 256.0)).sqrt();
    assert!(w.iter().all(|x| x.abs() <= limit + 1e-6));
    let (_, std) = mean_std(&w);
    assert!(
        (std / (limit / 3f64.sqrt()) - 1.0).abs() < 0.02,
        "std {std}"
    );

    let he = Init::KaimingNormal {
        gain: std::f64::consts::SQRT_2,
    };
    let model = config(vec![256], he, Init::Zeros).init(&device());
    let (_, std) = mean_std(&values(model.hidden[0].weight.val()));
    let expected = (2.0f64 / 784.0).sqrt();
    assert!(
        (std / expected - 1.0).abs() < 0.02,
        "std {std}, expected {expected}"
    );
}

#[test]
fn forward_gives_logits_and_dropout_acts_only_while_training() {
    let mut cfg = config(vec![64, 64], Init::XavierNormal { gain: 1.0 }, Init::Zeros);
    cfg.dropout = 0.5;
    let plain = device();
    let x = Tensor::<2>::ones([4, 784], &plain);
    let model = cfg.init(&plain);
    let a = model.forward(x.clone());
    assert_eq!(a.dims(), [4, 10]);
    // Without autodiff (evaluation), dropout is off: the same input gives the same output.
    let b = model.forward(x.clone());
    assert_eq!(values(a), values(b));

    let ad = plain.autodiff();
    let model = cfg.init(&ad);
    let x = Tensor::<2>::ones([4, 784], &ad);
    let a = values(model.forward(x.clone()));
    let b = values(model.forward(x));
    assert_ne!(a, b, "dropout must make two training passes differ");
}
