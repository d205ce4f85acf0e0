//! The dependency map of ARCHITECTURE.md is the law: an arrow between
//! workspace crates that the map does not allow fails this test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn allowed_from_map() -> BTreeMap<String, BTreeSet<String>> {
    let map = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md");
    let begin = map.find("<!-- allowed-dependencies:begin -->").expect("begin marker");
    let end = map.find("<!-- allowed-dependencies:end -->").expect("end marker");
    map[begin..end]
        .lines()
        .filter(|line| line.starts_with("| casetrail"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let allowed =
                cells[1].split(',').map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned).collect();
            (cells[0].to_owned(), allowed)
        })
        .collect()
}

#[test]
fn workspace_dependencies_follow_the_map() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let allowed = allowed_from_map();
    let mut violations = Vec::new();
    let mut seen = BTreeSet::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name").to_owned();
        seen.insert(name.clone());
        let Some(permitted) = allowed.get(&name) else {
            violations.push(format!("{name} is not in ARCHITECTURE.md's dependency map"));
            continue;
        };
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let target = dependency["name"].as_str().expect("dependency name");
            let normal = dependency["kind"].is_null() || dependency["kind"] == "build";
            if normal && target.starts_with("casetrail") && !permitted.contains(target) {
                violations.push(format!("{name} → {target} is not allowed by ARCHITECTURE.md"));
            }
        }
    }
    for name in allowed.keys() {
        if !seen.contains(name) {
            violations.push(format!("ARCHITECTURE.md lists {name}, which is not a workspace crate"));
        }
    }
    assert!(violations.is_empty(), "dependency map violations:\n{}", violations.join("\n"));
}

#[test]
fn the_map_forbids_arrows_against_the_layering() {
    // The test above must be able to fail: the map itself forbids the domain
    // from knowing storage or HTTP.
    let allowed = allowed_from_map();
    let domain = &allowed["casetrail-domain"];
    assert!(!domain.contains("casetrail-ledger") && !domain.contains("casetrail-web"));
    assert!(allowed["casetrail-types"].is_empty());
}
