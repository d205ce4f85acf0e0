//! `casetrail bench`: the import path against a bare insert of the same rows
//! into the same table, measured in the same run on the same machine.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::DbArgs;

pub fn run(_db: &DbArgs, _records: u64) -> Result<ExitCode> {
    anyhow::bail!("bench is not built yet")
}
