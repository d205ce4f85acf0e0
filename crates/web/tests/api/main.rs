//! The web application over HTTP, as clients see it: a fresh SQLite ledger
//! in a temporary directory, a small scenario with known truth imported,
//! the router served on 127.0.0.1:0, a blocking HTTP client.
//!
//! One binary: helpers in `helpers.rs`, one module per feature.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod admin;
mod authorization;
mod citizen;
mod disputes;
mod examples;
mod field;
mod keepalive;
mod login;
mod open311;
mod privacy;
