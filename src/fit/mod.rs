//! `revpipe fit`: from a CRM export to a scenario.
//!
//! Loading and fitting are separate steps. The loaders ([`load_deals`],
//! [`load_history`], [`load_leads`]) read CSV files into typed rows and
//! account for every row they set aside; [`fit()`] turns those rows, as
//! known on an as-of date, into a scenario (JSON, the format `revpipe run`
//! reads) and a [`FitReport`] that traces each fitted number to its rows.

pub mod csvread;
mod date;
pub mod deals;
pub mod layout;
pub mod load;
pub mod parse;

pub use date::Date;
pub use deals::{load_deals, Deal, DealFile, Outcome};
pub use layout::{Funnel, Layout, LayoutSpec};
pub use load::{LoadError, LoadOptions, Source};
