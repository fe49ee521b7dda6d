//! How burn-train's learner drives an [`Mlp`]: one cross-entropy step per batch.

use crate::batcher::MnistBatch;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::ExecutionError;
use burn::train::metric::{AccuracyInput, Adaptor, ItemLazy, LossInput};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};

use crate::mlp::Mlp;

/// What a training step hands to the metrics: the classification output, plus, when the
/// model has `record_gradient_norms` set, the mean absolute gradient of each layer's weights
/// (first hidden layer first, output layer last).
pub struct StepOutput {
    pub classification: ClassificationOutput,
    /// `[layers]`: mean |dL/dW| per Linear layer, for this batch.
    pub gradient_norms: Option<Tensor<1>>,
}

impl Mlp {
    /// Logits and the mean cross-entropy of a batch.
    pub fn forward_classification(&self, batch: MnistBatch) -> ClassificationOutput {
        let logits = self.forward(batch.images);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.targets.clone());
        ClassificationOutput::new(loss, logits, batch.targets)
    }

    /// Mean |gradient| of each layer's weight matrix. The vanishing-gradient lesson in numbers:
    /// in a deep sigmoid net the first layers' values are orders of magnitude below the last's.
    pub fn gradient_norms(&self, grads: &GradientsParams) -> Tensor<1> {
        let norms: Vec<Tensor<1>> = self
            .hidden
            .iter()
            .chain(std::iter::once(&self.output))
            .map(|layer| {
                grads
                    .get::<2>(layer.weight.id)
                    .expect("every weight takes part in the loss, so every weight has a gradient")
                    .abs()
                    .mean()
            })
            .collect();
        Tensor::cat(norms, 0)
    }
}

impl TrainStep for Mlp {
    type Input = MnistBatch;
    type Output = StepOutput;

    fn step(&self, batch: MnistBatch) -> TrainOutput<StepOutput> {
        let classification = self.forward_classification(batch);
        let grads = GradientsParams::from_grads(classification.loss.backward(), self);
        let gradient_norms = self
            .record_gradient_norms
            .then(|| self.gradient_norms(&grads));
        TrainOutput {
            grads,
            item: StepOutput {
                classification,
                gradient_norms,
            },
        }
    }
}

impl InferenceStep for Mlp {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}

impl ItemLazy for StepOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        Ok(StepOutput {
            classification: self.classification.sync()?,
            gradient_norms: self.gradient_norms,
        })
    }
}

impl Adaptor<AccuracyInput> for StepOutput {
    fn adapt(&self) -> AccuracyInput {
        self.classification.adapt()
    }
}

impl Adaptor<LossInput> for StepOutput {
    fn adapt(&self) -> LossInput {
        self.classification.adapt()
    }
}
