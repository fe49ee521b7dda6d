//! A burn-train metric per layer: the epoch's mean |dL/dW| of its weights (vanishing gradients).

use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::TensorReadError;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};
use lab10_models::StepOutput;

/// Metric names are `Grad L<k>`, k = 1 for the first hidden layer; `epochs.rs` reads them back.
const PREFIX: &str = "Grad L";

pub fn metric_name(layer: usize) -> String {
    format!("{PREFIX}{}", layer + 1)
}

/// The layer (0-based) a metric name refers to, if it is a gradient-norm metric.
pub fn layer_of(name: &str) -> Option<usize> {
    name.strip_prefix(PREFIX)?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)
}

pub struct GradientNormInput {
    norms: Tensor<1>,
}

impl Adaptor<GradientNormInput> for StepOutput {
    fn adapt(&self) -> GradientNormInput {
        GradientNormInput {
            norms: self.gradient_norms.clone().expect(
                "the gradient-norm metric is registered only for models that record the norms",
            ),
        }
    }
}

#[derive(Clone)]
pub struct GradientNormMetric {
    layer: usize,
    name: Arc<String>,
    state: NumericMetricState,
}

impl GradientNormMetric {
    pub fn new(layer: usize) -> Self {
        Self {
            layer,
            name: Arc::new(metric_name(layer)),
            state: NumericMetricState::default(),
        }
    }

    fn format(&self) -> FormatOptions {
        FormatOptions::new(self.name()).precision(6)
    }
}

impl Metric for GradientNormMetric {
    type Input = GradientNormInput;

    fn update(
        &mut self,
        input: &GradientNormInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let value = input
            .norms
            .clone()
            .slice(self.layer..self.layer + 1)
            .try_into_scalar::<f64>()?;
        // Every step counts once: the epoch value is the mean over steps.
        self.state.update(value, 1);
        Ok(self.state.compute_update(self.format()))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.state.compute_final(self.format()))
    }

    fn clear(&mut self) {
        self.state.reset()
    }

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn description(&self) -> Option<String> {
        let layer = self.layer + 1;
        Some(format!("mean |dLoss/dW| of layer {layer}'s weights"))
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: true,
        }
        .into()
    }
}

impl Numeric for GradientNormMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(metric_name(0), "Grad L1");
        assert_eq!(layer_of("Grad L10"), Some(9));
        assert_eq!(layer_of("Grad L0"), None);
        assert_eq!(layer_of("Loss"), None);
    }
}
