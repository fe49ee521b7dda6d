//! A finished run's pictures (its confusion matrix, its most confident mistakes), drawn as
//! `lab10 report` draws them, for the run folder, TensorBoard and MLflow.

use lab10_data::MnistDataset;
use lab10_runs::{DrawPictures, Evaluation, Pictures};

/// lab10-report's drawing of a run's test results.
pub(crate) struct ReportPictures;

impl DrawPictures for ReportPictures {
    fn draw(
        &self,
        label: &str,
        evaluation: &Evaluation,
        test: &MnistDataset,
        dataset: &str,
    ) -> Result<Pictures, String> {
        let classes = lab10_data::class_names(dataset);
        let [confusion, misclassified] =
            lab10_report::test_pictures(label, evaluation, test, classes)
                .map_err(|e| e.to_string())?;
        Ok(Pictures {
            confusion: confusion.png,
            misclassified: misclassified.png,
        })
    }
}
