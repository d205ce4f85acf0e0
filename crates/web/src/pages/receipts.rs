//! The citizen's receipt check (`/receipts/verify`): paste the receipt a
//! protocol or payment came with; the server checks it exactly as `casetrail
//! receipt verify` does, pinned to this ledger's signing key, and against
//! today's signed tree head with a consistency proof — so the answer says
//! both "this record was in the ledger" and "nobody has rewritten it since".
//!
//! The pasted receipt is not shown back (it holds the record, which may
//! name a person). The check runs on the server for convenience; the receipt format and
//! proofs are RFC 9162, so any independent tool gives the same answer
//! (docs/receipts.md).

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use casetrail_app::receipt::{self, Receipt, ReceiptFailure};

use super::{error_page, field, form, Ctx, L};
use crate::error::WebError;
use crate::state::AppState;

/// This module's sources, for the translation completeness test.
pub(super) const TRANSLATED: &[&str] = &[include_str!("receipts.rs"), include_str!("../../templates/receipt.html")];

/// The largest receipt the form takes (a receipt is a few kilobytes).
const RECEIPT_BYTES_MAX: usize = 256 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/receipts/verify", get(verify_page).post(verify_post))
}

/// What the check established.
struct Checked {
    seq: u64,
    record_type: String,
    recorded_at: String,
    head_size: u64,
    today_size: u64,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    l: L<'a>,
    checked: Option<Checked>,
    /// The translated part that failed, and the technical detail.
    failure: Option<(String, String)>,
}

async fn verify_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let page = ReceiptPage { l: ctx.layout(&state), checked: None, failure: None };
    ctx.page(StatusCode::OK, page.render())
}

/// The message key naming the part of a receipt that failed.
fn failure_key(failure: &ReceiptFailure) -> &'static str {
    match failure {
        ReceiptFailure::Format(_) => "receipt-fail-format",
        ReceiptFailure::KeyNotPinned | ReceiptFailure::KeyMismatch | ReceiptFailure::LaterKeyMismatch => {
            "receipt-fail-key"
        }
        ReceiptFailure::HeadSignature(_) | ReceiptFailure::LaterHeadSignature(_) => "receipt-fail-signature",
        ReceiptFailure::Inclusion(_) => "receipt-fail-inclusion",
        _ => "receipt-fail-consistency",
    }
}

async fn verify_post(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let form = form(&body);
    if let Err(error) = ctx.check_csrf(&form) {
        return error_page(&state, &ctx, &error, "/receipts/verify");
    }
    let pasted = field(&form, "receipt");
    let l = ctx.layout(&state);
    let parsed: Result<Receipt, String> = if pasted.len() > RECEIPT_BYTES_MAX {
        Err(format!("more than {RECEIPT_BYTES_MAX} bytes"))
    } else {
        serde_json::from_str(&pasted).map_err(|error| error.to_string())
    };
    let receipt = match parsed {
        Ok(receipt) => receipt,
        Err(detail) => {
            let failure = Some((l.tr.t("receipt-fail-format"), detail));
            return ctx.page(StatusCode::UNPROCESSABLE_ENTITY, ReceiptPage { l, checked: None, failure }.render());
        }
    };
    let size = receipt.tree_head.head.size;
    // Today's head with the proof that it extends the receipt's head; and
    // this ledger's key, to which the receipt is pinned.
    let later = state
        .read(move |store| {
            let today = receipt::head_statement(store, None).map_err(WebError::internal)?;
            if size == 0 || size > today.tree_head.head.size {
                return Ok((today, None));
            }
            let proof = receipt::head_statement(store, Some(size)).map_err(WebError::internal)?;
            Ok((today, Some(proof)))
        })
        .await;
    let (today, later) = match later {
        Ok(found) => found,
        Err(error) => return error_page(&state, &ctx, &error, "/receipts/verify"),
    };
    let pinned = today.tree_head.key_id;
    let result = match &later {
        Some(later) => receipt::verify_receipt(&receipt, Some(&pinned), Some(later)),
        None => Err(ReceiptFailure::Consistency(format!(
            "the receipt's head has {size} events, this ledger's latest head {}",
            today.tree_head.head.size
        ))),
    };
    let (status, checked, failure) = match result {
        Ok(verified) => (
            StatusCode::OK,
            Some(Checked {
                seq: verified.seq,
                record_type: receipt.entry.record.get("type").and_then(|t| t.as_str()).unwrap_or_default().to_owned(),
                recorded_at: receipt.entry.recorded_at.clone(),
                head_size: verified.head_size,
                today_size: verified.later_size.unwrap_or(verified.head_size),
            }),
            None,
        ),
        Err(failure) => {
            (StatusCode::UNPROCESSABLE_ENTITY, None, Some((l.tr.t(failure_key(&failure)), failure.to_string())))
        }
    };
    ctx.page(status, ReceiptPage { l, checked, failure }.render())
}
