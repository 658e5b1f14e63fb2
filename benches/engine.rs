//! The engine on the benchmark workload: four Ansoff segments, 200 open
//! deals, gamma cycle times, forward run with the reverse solve.
//!
//! Reads `../shared/bench/bench-ansoff.json` beside the repository, or the
//! bundled `scenarios/ansoff-quarter.json` where that is absent. Throughput
//! is reported in trials per second; compare whole processes against the
//! numpy peer with the commands in the README's performance section.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use revpipe::engine::{self, Settings};
use revpipe::model::Model;
use revpipe::{scenario, summary};

const TRIALS: u64 = 50_000;

fn workload() -> Model {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/bench/bench-ansoff.json");
    let file: PathBuf = if shared.exists() {
        shared
    } else {
        root.join("scenarios/ansoff-quarter.json")
    };
    let mut model = scenario::load(&file).expect("the bench scenario loads");
    model.trials = TRIALS;
    model
}

fn bench_engine(c: &mut Criterion) {
    let model = workload();
    let mut group = c.benchmark_group("bench-ansoff");
    group.throughput(Throughput::Elements(TRIALS));
    group.sample_size(10);
    for threads in [1, 2] {
        let settings = Settings {
            threads: Some(threads),
            ..Settings::default()
        };
        group.bench_function(format!("run+summary, {threads} thread(s)"), |b| {
            b.iter(|| {
                let trials = engine::run(&model, &settings, None).unwrap();
                summary::summarize(&model, &settings, trials)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
