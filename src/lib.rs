//! revpipe: Monte Carlo reverse-pipeline revenue forecasting.
//!
//! A forecast starts from a scenario: a revenue target for a period, and one
//! funnel per growth motion (segment) with uncertain conversion rates, lead
//! activity, deal sizes and sales-cycle lengths. revpipe runs many seeded,
//! parallel trials of the period and reports the probability of making the
//! number, the numbers reached with 90% (commit) and 50% (stretch)
//! confidence, and, working backwards from the target, the leads and stage
//! volumes needed for each confidence level.
//!
//! Data flows one way:
//!
//! ```text
//! scenario JSON -> scenario::load -> Model -> engine::run -> Trials
//!               -> summary::summarize -> Summary -> render (text) | JSON
//! ```
//!
//! Two analyses run the engine several times on common random numbers
//! (one seed, so trial `i` of every run draws the same numbers):
//! [`sensitivity`] holds each uncertain input at its P10 and P90, and
//! [`compare`] runs scenarios side by side and gives each difference from
//! the first with a paired standard error.
//!
//! ```
//! use revpipe::{engine, scenario, summary};
//! use std::path::Path;
//!
//! let json = r#"{
//!   "name": "One rep, one month", "period_days": 30, "target": 50000,
//!   "trials": 2000, "seed": 1,
//!   "segments": [{
//!     "name": "Inbound",
//!     "stages": [{"name": "lead", "to_next": {"dist": "beta", "alpha": 20, "beta": 80}},
//!                {"name": "won"}],
//!     "activity": {"dist": "poisson", "mean": 50},
//!     "deal_size": 5000
//!   }]
//! }"#;
//! let model = scenario::parse_str(json).unwrap().validate(Path::new(".")).unwrap();
//! let settings = engine::Settings::default();
//! let trials = engine::run(&model, &settings, None).unwrap();
//! let result = summary::summarize(&model, &settings, trials);
//! assert!(result.p_hit > 0.0 && result.p_hit < 1.0);
//!
//! // A scenario that breaks a rule is refused with the field's path.
//! let bad = json.replace("\"target\": 50000", "\"target\": -1");
//! let err = scenario::parse_str(&bad).unwrap().validate(Path::new(".")).unwrap_err();
//! assert_eq!(err.path, "target");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backtest;
pub mod compare;
pub mod dependence;
pub mod dist;
pub mod engine;
pub mod fit;
pub mod model;
pub mod render;
pub mod report;
pub mod scenario;
pub mod sensitivity;
pub mod summary;
pub mod team;
