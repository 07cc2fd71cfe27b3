//! Open Referral HSDS 3.0: Signpost's records in the standard's shape
//! (`export`), and standard data into Signpost (`import`).

mod batch;
pub mod cli;
pub mod export;
pub mod federation;
pub mod import;
pub mod staging;
pub mod store;
pub mod tabular;
pub mod types;

/// The HSDS version served and read.
pub const VERSION: &str = "3.0";
/// The profile the `/openreferral` API follows.
pub const PROFILE: &str = "https://docs.openreferral.org/en/latest/hsds/";
