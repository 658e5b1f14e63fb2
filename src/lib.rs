//! revpipe: Monte Carlo reverse-pipeline revenue forecasting.
#![forbid(unsafe_code)]

pub mod dist;
pub mod fit;
