//! revpipe: Monte Carlo reverse-pipeline revenue forecasting.
