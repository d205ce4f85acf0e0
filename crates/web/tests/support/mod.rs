//! Helpers of the browser tests: a casetrail server on a simulated city
//! ([`app`]) and a real headless Chromium driven over WebDriver
//! ([`browser`]).

#![allow(dead_code)] // each test binary uses some of the helpers

pub mod app;
pub mod browser;
