//! What is there: `lab10 list`, `summary`, `backends` and `datasets`.

use anyhow::Result;
use lab10_data::KNOWN;
use lab10_experiment::BackendKind;
use lab10_models::ModelSummary;
use lab10_models::summary::thousands;
use lab10_train::{experiments_by_topic, get_group, group_names};

use crate::cli::Global;

pub fn list(g: &Global) -> Result<()> {
    let catalog = g.catalog();
    let all = catalog.all();
    if all.is_empty() {
        anyhow::bail!("no experiment files (*.toml) in {}", catalog.dir.display());
    }
    let width = all.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    // The lesson's five first, then the rest by topic, as `lab10 train --group` runs them.
    for (i, (topic, names)) in experiments_by_topic(&catalog).into_iter().enumerate() {
        let lesson = i == 0 && topic.as_deref() == Some("lesson");
        if !lesson {
            println!("\n{}:", topic.as_deref().unwrap_or("in no group"));
        }
        for name in names {
            match all.iter().find(|(n, _)| *n == name).map(|(_, e)| e) {
                Some(Ok(e)) => println!(
                    "{name:<width$}  {:>9} params  {}",
                    thousands(e.model.num_params()),
                    e.description
                ),
                Some(Err(err)) => println!("{name:<width$}  (invalid: {err})"),
                None => {}
            }
        }
    }
    let groups = group_names(&catalog);
    if !groups.is_empty() {
        println!("\ngroups (lab10 train --group NAME):");
        let width = groups.iter().map(String::len).max().unwrap_or(0);
        for name in groups {
            match get_group(&catalog, &name) {
                Ok(group) => println!(
                    "{name:<width$}  {} x {} seeds: {}  ({})",
                    group.experiments.len(),
                    group.seeds.len(),
                    group.experiments.join(", "),
                    group.description
                ),
                Err(err) => println!("{name:<width$}  (invalid: {err})"),
            }
        }
    }
    Ok(())
}

pub fn summary(g: &Global, experiment: &str) -> Result<()> {
    let e = g.catalog().get(experiment)?;
    println!("{}", ModelSummary::new(&e.name, &e.model));
    Ok(())
}

pub fn datasets(g: &Global) -> Result<()> {
    let places = g.places();
    for spec in KNOWN {
        println!("{} - {}", spec.name, spec.title);
        match places.find(spec) {
            Some(found) => println!("  found: {} ({})", found.dir.display(), found.source),
            None => println!(
                "  not found locally; looked in {}",
                places
                    .search_path(spec)
                    .iter()
                    .map(|(d, _)| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        println!("  get it: {}", spec.how_to_get);
        println!("  classes: {}", spec.classes.join(", "));
        println!("  license: {}", spec.license);
    }
    Ok(())
}

pub fn backends() -> Result<()> {
    let absent = |name: &str, feature: &str| {
        println!("{name:<8} not compiled in (rebuild with --features {feature})")
    };
    for b in BackendKind::ALL {
        match b.is_compiled().then(|| b.open()) {
            None => absent(b.name(), b.feature()),
            Some(Ok(d)) => println!("{:<8} {}", b.name(), d.description),
            Some(Err(e)) => println!("{:<8} unavailable: {e}", b.name()),
        }
    }
    if cfg!(feature = "remote") {
        println!("remote   a `lab10 worker`'s device: --remote ws://HOST:PORT");
    } else {
        absent("remote", lab10_experiment::REMOTE_FEATURE);
    }
    Ok(())
}
