//! revpipe: Monte Carlo reverse-pipeline revenue forecasting.

pub mod dist;
