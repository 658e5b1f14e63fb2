//! Synthetic CRM history from a known process, for backtests that know
//! the truth.
//!
//! Deals arrive as a Poisson process (a Poisson count each day); each is
//! won with a known chance, which may change on a given day; every deal,
//! won or lost, closes after a gamma-distributed cycle, and carries a
//! lognormal amount whatever its outcome, so neither the amount nor the
//! age of an open deal says anything about its outcome. That is the
//! process `revpipe fit` assumes (its open deals win with the closed win
//! rate, after a cycle drawn from the won cycles), so its forecasts of
//! this history should be calibrated.
//!
//! Deals whose close falls after the last day of the history are open,
//! with no close date. The CSV has the header
//! `id,stage,amount,created,closed` with stages `Open`, `Won`, `Lost`.

#![allow(dead_code)] // each test file uses part of it

use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, LogNormal, Poisson};
use rand_pcg::Pcg64;
use revpipe::fit::{Date, LayoutSpec, LoadOptions};

/// The process that generates the history.
pub struct Truth {
    /// First day of the history.
    pub start: Date,
    /// Days in the history.
    pub days: i32,
    /// Mean new deals a day.
    pub per_day: f64,
    /// Chance a deal is won, for deals created before `change_day`.
    pub win_rate: f64,
    /// Day (from `start`) from which deals win with `win_rate_after`.
    pub change_day: i32,
    /// Chance a deal is won from `change_day` on.
    pub win_rate_after: f64,
    /// Lognormal amount: mu and sigma of its log.
    pub size_mu: f64,
    /// See `size_mu`.
    pub size_sigma: f64,
    /// Gamma cycle in days: shape and scale.
    pub cycle_shape: f64,
    /// See `cycle_shape`.
    pub cycle_scale: f64,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Truth {
    fn default() -> Truth {
        Truth {
            start: Date::from_ymd(2019, 1, 1).unwrap(),
            // 2019 to 2024, whole years.
            days: 2192,
            per_day: 3.0,
            win_rate: 0.4,
            change_day: i32::MAX,
            win_rate_after: 0.4,
            size_mu: 8.3,
            size_sigma: 0.7,
            cycle_shape: 2.0,
            cycle_scale: 15.0,
            seed: 7,
        }
    }
}

impl Truth {
    /// The history as CSV text.
    pub fn csv(&self) -> String {
        let mut rng = Pcg64::seed_from_u64(self.seed);
        let arrivals = Poisson::new(self.per_day).unwrap();
        let size = LogNormal::new(self.size_mu, self.size_sigma).unwrap();
        let cycle = Gamma::new(self.cycle_shape, self.cycle_scale).unwrap();
        let last = self.start.plus_days(self.days - 1);
        let mut out = String::from("id,stage,amount,created,closed\n");
        let mut id = 0;
        for day in 0..self.days {
            let n = arrivals.sample(&mut rng) as u64;
            for _ in 0..n {
                id += 1;
                let p = if day < self.change_day {
                    self.win_rate
                } else {
                    self.win_rate_after
                };
                let won = rand::Rng::random::<f64>(&mut rng) < p;
                let amount = size.sample(&mut rng);
                let created = self.start.plus_days(day);
                let closed = created.plus_days(cycle.sample(&mut rng).round() as i32);
                let (stage, closed) = match (closed <= last, won) {
                    (false, _) => ("Open", String::new()),
                    (true, true) => ("Won", closed.to_string()),
                    (true, false) => ("Lost", closed.to_string()),
                };
                out.push_str(&format!("D{id},{stage},{amount:.2},{created},{closed}\n"));
            }
        }
        out
    }
}

/// How the synthetic CSV is read: its columns and its one open stage.
pub fn load_options() -> LoadOptions {
    let mut spec = LayoutSpec::default();
    for pair in [
        "id=id",
        "stage=stage",
        "amount=amount",
        "created=created",
        "closed=closed",
    ] {
        spec.set(pair).unwrap();
    }
    spec.stages = Some(vec!["Open".into()]);
    LoadOptions {
        spec,
        ..LoadOptions::default()
    }
}

/// The flags that read it on the command line.
pub const CLI_MAPPING: [&str; 12] = [
    "--col",
    "id=id",
    "--col",
    "stage=stage",
    "--col",
    "amount=amount",
    "--col",
    "created=created",
    "--col",
    "closed=closed",
    "--stages",
    "Open",
];
