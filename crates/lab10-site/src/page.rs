//! `index.html`: the drawing pad and the table of models (its rows built by `pad.js`, shared
//! with `lab10 serve`), then the lesson's table and curves from the report. Every text is
//! escaped (maud).

use std::path::{Path, PathBuf};

use lab10_report::RunData;
use lab10_report::page::{TABLE_HEADER, table_row};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::manifest::Manifest;

/// The report's curves the page shows, by file name, with their captions.
const CURVES: [(&str, &str); 2] = [
    ("accuracy.png", "Accuracy per epoch (train and held-out)"),
    ("loss.png", "Loss per epoch (train and held-out)"),
];

/// Runs before site.js (a classic script, so it runs from a file:// page too, where browsers
/// refuse module scripts): says why a page opened as a file cannot work, and gives site.js's
/// `onerror` a way to say that the script did not load.
const BOOT: &str = "function lab10Failed(message) {
  const show = () => {
    const status = document.getElementById('status');
    status.textContent = message;
    status.className = 'error';
    document.body.dataset.state = 'error';
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', show);
  else show();
}
if (location.protocol === 'file:') {
  lab10Failed('This page was opened as a file, and browsers do not run its WebAssembly or load \
the model files from a file. Serve this folder instead, e.g. run `python3 -m http.server` in \
it, then open http://localhost:8000/.');
}";

/// The page for `manifest`'s models; `report_files` are the report's files under `root`.
pub fn index(
    manifest: &Manifest,
    runs: &[RunData],
    disambiguate: bool,
    report_files: &[PathBuf],
    root: &Path,
) -> String {
    let curves: Vec<(String, &str)> = CURVES
        .iter()
        .filter_map(|(name, caption)| {
            report_files
                .iter()
                .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))
                .and_then(|p| p.strip_prefix(root).ok())
                .map(|p| (p.to_string_lossy().into_owned(), *caption))
        })
        .collect();
    let names: Vec<&str> = manifest.models.iter().map(|m| m.label.as_str()).collect();
    let title = lab10_data::DatasetSpec::by_name(&manifest.dataset)
        .map_or(manifest.dataset.as_str(), |d| d.title);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(manifest.generator);
                title { (manifest.title) ": draw a digit for " (names.join(", ")) }
                link rel="stylesheet" href="style.css";
                // No favicon: no request a static server answers 404.
                link rel="icon" href="data:,";
                script { (PreEscaped(BOOT)) }
                script type="module" src="site.js"
                    onerror="lab10Failed('The script of this page (site.js, pad.js or \
                    wasm/lab10_site_wasm.js) could not be loaded: write the site again with \
                    `lab10 site --force`.')" {}
            }
            body data-state="loading" {
                header {
                    h1 { (manifest.title) }
                    p.lead {
                        "The lesson's models, trained on " (title) " with lab10, read "
                        "your drawing side by side. They run here, in your browser: each is the "
                        "same Burn module that was trained, compiled to WebAssembly."
                    }
                }
                div #status role="status" aria-live="polite" { "Loading the models\u{2026}" }
                noscript {
                    p.error { "This page needs JavaScript and WebAssembly to run the models." }
                }
                div.layout {
                    (pad(manifest))
                    (readings())
                }
                (lesson(runs, disambiguate, &curves))
                footer {
                    "Written by " (manifest.generator) " (" code { "lab10 site" } ") on "
                    (manifest.created) ". The models run on Burn's flex backend compiled to "
                    "WebAssembly; a drawing is prepared as MNIST was made (cropped, scaled into "
                    "20\u{d7}20, centred by mass) by the same Rust code as "
                    code { "lab10 serve" } "'s."
                }
            }
        }
    }
    .into_string()
}

fn pad(manifest: &Manifest) -> Markup {
    let last = manifest.digits.count.saturating_sub(1);
    html! {
        section.panel.drawing {
            canvas #pad width="280" height="280" aria-label="drawing pad" {}
            div.buttons {
                button #clear type="button" { "Clear" }
                button #random type="button" disabled { "Random test digit" }
            }
            form #pick {
                label for="digit" { "Test digit #" }
                input #digit type="number" min="0" max=(last) step="1" value="0" disabled;
                button type="submit" disabled { "Show" }
            }
            div #sample-label {}
            div.seen {
                canvas #seen width="28" height="28" aria-label="what the models read" {}
                div.small {
                    "What the models read: 28\u{d7}28, the ink cropped, scaled into "
                    "20\u{d7}20 and centred by its mass, as MNIST was made. "
                    (manifest.digits.count) " real test digits ship with this page."
                }
            }
        }
    }
}

/// The table of models: its rows are pad.js's, as on `lab10 serve`'s page.
fn readings() -> Markup {
    html! {
        section.panel.readings {
            table #models {
                thead {
                    tr {
                        th { "model" } th { "test acc." } th { "reads" }
                        th { "probabilities" } th {}
                    }
                }
                tbody {}
            }
        }
    }
}

fn lesson(runs: &[RunData], disambiguate: bool, curves: &[(String, &str)]) -> Markup {
    html! {
        section.lesson {
            h2 { "How they were trained" }
            div.scroll {
                table.runs {
                    thead { tr { @for h in TABLE_HEADER { th { (h) } } } }
                    tbody {
                        @for r in runs {
                            tr {
                                @for cell in table_row(r, &r.label(disambiguate)) { td { (cell) } }
                            }
                        }
                    }
                }
            }
            div.curves {
                @for (src, caption) in curves {
                    figure {
                        img src=(src) alt=(caption) loading="lazy";
                        figcaption { (caption) }
                    }
                }
            }
            p {
                a href="report/index.html" { "The full report" }
                ": confusion matrices and misclassified digits of every model."
            }
        }
    }
}
