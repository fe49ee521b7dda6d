//! The report folder: pictures, `README.md` and a self-contained `index.html`.

use std::path::{Path, PathBuf};

use base64::Engine;
use lab10_data::atomic::write_atomically;
use lab10_experiment::{Evaluation, Prediction};
use lab10_models::MnistDataset;
use lab10_runs::Error;

use crate::charts::{Curves, Metric, Series};
use crate::confusion::{ConfusionMatrix, Heatmap};
use crate::digits::DigitGrid;
use crate::render::{Picture, render};
use crate::runs::RunData;

/// How many misclassified digits a run's grid shows (most confident mistakes first).
const MISCLASSIFIED_SHOWN: usize = 40;

/// One row of the comparison table, formatted exactly as it appears in README.md/index.html.
pub fn table_row(r: &RunData, label: &str) -> Vec<String> {
    let rep = &r.report;
    vec![
        label.to_string(),
        rep.backend.clone(),
        rep.epochs.to_string(),
        lab10_models::summary::thousands(rep.params),
        format!("{:.4}", rep.final_train_loss),
        format!("{:.4}", rep.test_loss),
        format!("{:.2}", rep.test_accuracy),
        format!("{:.2}", rep.mean_epoch_seconds),
        lab10_experiment::reference_for(&r.dataset, r.report.reference.as_deref())
            .unwrap_or_else(|| "-".into()),
    ]
}

pub const TABLE_HEADER: [&str; 9] = [
    "experiment",
    "backend",
    "epochs",
    "params",
    "final train loss",
    "test loss",
    "test accuracy (%)",
    "s/epoch",
    "reference",
];

/// The runs' table rows, one table per dataset (each with its own reference numbers), in the
/// order datasets first appear.
fn tables(runs: &[RunData], disambiguate: bool) -> Vec<(String, Vec<Vec<String>>)> {
    let mut tables: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for r in runs {
        let row = table_row(r, &r.label(disambiguate));
        match tables.iter_mut().find(|(d, _)| *d == r.dataset) {
            Some((_, rows)) => rows.push(row),
            None => tables.push((r.dataset.clone(), vec![row])),
        }
    }
    tables
}

struct Figure {
    stem: String,
    caption: String,
    picture: Picture,
    svg: bool,
}

/// Writes the report for `runs` into `out` and returns the files written.
pub fn write_report(runs: &[RunData], out: &Path) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(out).map_err(|e| Error::write(out, e))?;
    let disambiguate = RunData::disambiguate(runs);
    let all_test = runs.iter().all(|r| r.report.validation.starts_with("test"));
    let valid_label = if all_test { "test" } else { "validation" };

    let mut figures = curve_figures(runs, disambiguate, valid_label)?;
    for r in runs {
        figures.extend(run_figures(r, disambiguate)?);
    }

    let mut written = Vec::new();
    let mut write = |name: String, bytes: &[u8]| -> Result<(), Error> {
        let path = out.join(name);
        write_atomically(&path, bytes).map_err(|e| Error::write(&path, e))?;
        written.push(path);
        Ok(())
    };
    for f in &figures {
        write(format!("{}.png", f.stem), &f.picture.png)?;
        if f.svg {
            write(format!("{}.svg", f.stem), f.picture.svg.as_bytes())?;
        }
    }
    let tables = tables(runs, disambiguate);
    write("README.md".into(), markdown(&tables, &figures).as_bytes())?;
    write("index.html".into(), html(&tables, &figures).as_bytes())?;
    Ok(written)
}

fn draw_error(what: &str, e: String) -> Error {
    Error::Invalid(format!("cannot draw {what}: {e}"))
}

/// Loss and accuracy per epoch, train and validation, every run on one chart each.
fn curve_figures(
    runs: &[RunData],
    disambiguate: bool,
    valid_label: &str,
) -> Result<Vec<Figure>, Error> {
    let mut figures = Vec::new();
    for (metric, stem, name) in [
        (Metric::Loss, "loss", "losses"),
        (Metric::Accuracy, "accuracy", "accuracies"),
    ] {
        let curves = Curves {
            metric,
            valid_label: valid_label.into(),
            series: runs
                .iter()
                .map(|r| Series {
                    label: r.label(disambiguate),
                    points: r
                        .metrics
                        .iter()
                        .map(|m| {
                            let (t, v) = match metric {
                                Metric::Loss => (m.train_loss, m.valid_loss),
                                Metric::Accuracy => (m.train_accuracy, m.valid_accuracy),
                            };
                            (m.epoch as f64, t, v)
                        })
                        .collect(),
                })
                .collect(),
        };
        figures.push(Figure {
            stem: stem.into(),
            caption: format!("Train and {valid_label} {name} per epoch, all runs"),
            picture: render(&curves).map_err(|e| draw_error(stem, e))?,
            svg: true,
        });
    }
    Ok(figures)
}

/// One run's confusion matrix and its most confidently misclassified test images.
fn run_figures(r: &RunData, disambiguate: bool) -> Result<[Figure; 2], Error> {
    let key = r.key(disambiguate);
    let label = r.label(disambiguate);
    let [confusion, digits] = test_pictures(&label, &r.evaluation, &r.test, r.classes)?;
    Ok([
        Figure {
            stem: format!("{key}-confusion"),
            caption: format!("{label}: confusion matrix"),
            picture: confusion,
            svg: true,
        },
        Figure {
            stem: format!("{key}-misclassified"),
            caption: format!(
                "{label}: misclassified test {}, most confident first",
                noun(&r.classes)
            ),
            picture: digits,
            svg: false,
        },
    ])
}

/// A run's test results drawn: the confusion matrix of `evaluation` on `test`, and the most
/// confidently misclassified images. What the report shows of each run; a finished run keeps
/// both as PNG in its folder for TensorBoard and MLflow (lab10-train draws them here).
pub fn test_pictures(
    label: &str,
    evaluation: &Evaluation,
    test: &MnistDataset,
    classes: [&'static str; 10],
) -> Result<[Picture; 2], Error> {
    let labels = &test.mnist().labels;
    let matrix = ConfusionMatrix::new(labels, &evaluation.predictions);
    let heatmap = Heatmap {
        title: format!("{label}: confusion matrix ({} test images)", labels.len()),
        matrix: &matrix,
        classes,
    };
    let confusion = render(&heatmap).map_err(|e| draw_error("a confusion matrix", e))?;
    let grid = misclassified(label, evaluation, test, classes);
    let digits = render(&grid).map_err(|e| draw_error("the misclassified digits", e))?;
    Ok([confusion, digits])
}

/// "digits" for MNIST, "images" for datasets with named classes.
fn noun(classes: &[&str; 10]) -> &'static str {
    if crate::named(classes) {
        "images"
    } else {
        "digits"
    }
}

fn misclassified(
    label: &str,
    e: &Evaluation,
    test: &MnistDataset,
    classes: [&'static str; 10],
) -> DigitGrid {
    let mnist = test.mnist();
    let mut wrong: Vec<usize> = (0..mnist.len())
        .filter(|&i| e.predictions[i] != mnist.labels[i])
        .collect();
    let total = wrong.len();
    wrong.sort_by(|&a, &b| e.confidence[b].total_cmp(&e.confidence[a]));
    DigitGrid {
        title: format!(
            "{label}: {total} of {} test {} misclassified; the {} most confident mistakes",
            mnist.len(),
            noun(&classes),
            total.min(MISCLASSIFIED_SHOWN)
        ),
        digits: wrong
            .into_iter()
            .take(MISCLASSIFIED_SHOWN)
            .map(|i| Prediction {
                index: i,
                pixels: mnist.image(i).try_into().expect("784 pixels"),
                actual: mnist.labels[i],
                predicted: e.predictions[i],
                confidence: e.confidence[i],
            })
            .collect(),
        columns: 10,
        classes,
    }
}

fn markdown(tables: &[(String, Vec<Vec<String>>)], figures: &[Figure]) -> String {
    let mut s = String::from("# lab10 report\n");
    for (dataset, rows) in tables {
        s += &format!(
            "\n## Dataset: {dataset}\n\n{}\n",
            lab10_runs::markdown_table(&TABLE_HEADER, rows)
        );
    }
    for f in figures {
        s += &format!("\n## {}\n\n![{}]({}.png)", f.caption, f.caption, f.stem);
        if f.svg {
            s += &format!(" ([SVG]({}.svg))", f.stem);
        }
        s += "\n";
    }
    s
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1100px}\
    table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}\
    td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}\
    figure{margin:2em 0}";

/// Says in the page how many of its pictures loaded (scripts/check-report.sh reads it).
const COUNT_IMAGES: &str = "window.addEventListener('load', () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.getElementById('images-loaded').textContent = `${ok} of ${imgs.length} images loaded`;
});";

/// The page, one self-contained file: every picture is inlined, so it works offline. maud
/// escapes every text it is given.
fn html(tables: &[(String, Vec<Vec<String>>)], figures: &[Figure]) -> String {
    use maud::{DOCTYPE, PreEscaped, html};
    let engine = base64::engine::general_purpose::STANDARD;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "lab10 report" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "lab10 report" }
                @for (dataset, rows) in tables {
                    h2 { "Dataset: " (dataset) }
                    table {
                        tr { @for h in TABLE_HEADER { th { (h) } } }
                        @for row in rows {
                            tr { @for cell in row { td { (cell) } } }
                        }
                    }
                }
                @for f in figures {
                    figure {
                        img alt=(f.caption)
                            src={ "data:image/png;base64," (engine.encode(&f.picture.png)) };
                        figcaption { (f.caption) }
                    }
                }
                p id="images-loaded" {}
                script { (PreEscaped(COUNT_IMAGES)) }
            }
        }
    }
    .into_string()
}
