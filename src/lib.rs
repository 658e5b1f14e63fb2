//! revpipe: Monte Carlo reverse-pipeline revenue forecasting.
#![forbid(unsafe_code)]

pub mod fit;
