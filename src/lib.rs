//! Signpost: a community resource directory.

pub mod api;
pub mod auth;
pub mod bench;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod encoding;
pub mod geo;
pub mod hours;
pub mod hsds;
pub mod http_retry;
pub mod jobs;
pub mod keys_cli;
pub mod links;
pub mod model;
pub mod search;
pub mod startup;
pub mod state;
pub mod webhooks;
