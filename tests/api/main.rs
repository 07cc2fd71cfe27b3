//! Black-box API tests: each starts the real server on port 0 over a fresh
//! database (a SQLite temp file, or a new PostgreSQL database when
//! SIGNPOST_TEST_POSTGRES_URL is set) and talks to it over HTTP.

mod helpers;

mod accounts;
mod aliss;
mod areas;
mod bad_input;
mod demo;
mod freshness;
mod hours;
mod locations;
mod openapi;
mod openreferral;
mod organisations;
mod paging;
mod search;
mod services;
mod stub;
mod taxonomy;
mod transfer;
