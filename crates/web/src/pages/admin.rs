//! The admin pages.

use axum::Router;

use crate::state::AppState;

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[include_str!("admin.rs")];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
