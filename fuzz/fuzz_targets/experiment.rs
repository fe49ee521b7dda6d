//! Any text must parse into a valid experiment or give an error: never a panic. An experiment
//! that parses must survive its own round trip (what a run writes as experiment.toml).
#![no_main]

use std::path::Path;

use lab10_experiment::Experiment;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    if let Ok(experiment) = Experiment::parse(text, "fuzz", path) {
        let again = Experiment::parse(&experiment.to_toml(), "fuzz", path)
            .expect("a resolved experiment parses again");
        assert_eq!(again.model, experiment.model);
    }
});
