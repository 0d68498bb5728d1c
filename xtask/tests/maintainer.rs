//! The maintainer's day, simulated on temporary copies (the workspace's `spec/` is only read):
//!
//! - upstream adds an operation and a response field and removes an operation: `regen` names
//!   all three in its output and in `CHANGES.md`, and the coverage gate (run on the temporary
//!   `spec/` against the real client sources and coverage lists) fails naming the new
//!   operation, the new field and the removed operation's stale listing;
//! - switching to the preview api-version and back is one command each, `--check` passes after
//!   each, the manifest records the version, and the round trip ends byte-identical to the
//!   committed `spec/`;
//! - an erratum is applied to the preview and reported when it no longer applies.
//!
//! Skipped with a message when the reference specs (`../shared/azure-rest-api-specs`) are absent.

mod support;

use support::{copy_specs, data_plane, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use xtask::coverage::{self, Gap};

/// A temporary upstream tree and a temporary `spec/` holding a copy of the committed one.
struct Workspace {
    _dir: tempfile::TempDir,
    specs: PathBuf,
    spec: PathBuf,
}

impl Workspace {
    fn new(data_plane: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path().join("data-plane");
        let spec = dir.path().join("spec");
        std::fs::create_dir_all(&specs).unwrap();
        std::fs::create_dir_all(&spec).unwrap();
        copy_specs(data_plane, &specs);
        let committed = xtask::workspace_root().join("spec");
        for file in [
            "ledger.json",
            "identity.json",
            "manifest.json",
            "CHANGES.md",
        ] {
            std::fs::copy(committed.join(file), spec.join(file)).unwrap();
        }
        let ws = Self {
            _dir: dir,
            specs,
            spec,
        };
        // The scenarios start from the stable version, whichever version the workspace is
        // switched to (a maintainer trying the preview runs these tests too).
        let manifest: Value = serde_json::from_str(&ws.read("manifest.json")).unwrap();
        if manifest["ledger"]["api_version"] != xtask::layout::DEFAULT_API_VERSION {
            let out = ws.regen(&["--api-version", xtask::layout::DEFAULT_API_VERSION]);
            assert!(out.status.success(), "{}", text(&out));
        }
        ws
    }

    fn regen(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "regen",
            "--from",
            self.specs.to_str().unwrap(),
            "--out",
            self.spec.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(&args)
            .env_remove("CONFIDENTIAL_LEDGER_SHARED")
            .output()
            .unwrap()
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.spec.join(file)).unwrap()
    }

    fn edit_upstream(&self, relative: &str, edit: impl FnOnce(&mut Value)) {
        let path = self.specs.join(relative);
        let mut swagger: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut swagger);
        std::fs::write(&path, serde_json::to_string_pretty(&swagger).unwrap()).unwrap();
    }
}

const STABLE: &str = "ConfidentialLedger/stable/2026-02-23/confidentialledger.json";

#[test]
fn an_upstream_update_is_named_by_the_diff_and_by_the_coverage_gate() {
    let Some(data_plane) = data_plane() else {
        eprintln!("skipped: no ../shared/azure-rest-api-specs");
        return;
    };
    let ws = Workspace::new(&data_plane);
    let before_changes = ws.read("CHANGES.md");
    let before_check = ws.regen(&["--check"]);
    assert!(before_check.status.success(), "{}", text(&before_check));

    ws.edit_upstream(STABLE, |swagger| {
        // Added: an operation...
        swagger["paths"]["/app/transactions/{transactionId}/summary"] = json!({
            "get": {
                "operationId": "GetTransactionSummary",
                "parameters": [
                    {"$ref": "#/parameters/Azure.Core.Foundations.ApiVersionParameter"},
                    {"name": "transactionId", "in": "path", "required": true, "type": "string"}
                ],
                "responses": {
                    "200": {"description": "ok", "schema": {"$ref": "#/definitions/TransactionStatus"}},
                    "default": {"description": "error", "schema": {
                        "$ref": "#/definitions/ConfidentialLedgerCommon.ConfidentialLedgerError"}}
                }
            }
        });
        // ...and a response field of a wrapped operation (list_collections).
        swagger["definitions"]["Collection"]["properties"]["createdAt"] =
            json!({"type": "string", "format": "date-time"});
        // Removed: an operation the client wraps.
        let users = swagger["paths"]["/app/users/{userId}"]
            .as_object_mut()
            .unwrap();
        assert!(users.remove("delete").is_some());
    });

    // `--check` fails and shows the difference it would record.
    let check = ws.regen(&["--check"]);
    let msg = text(&check);
    assert_eq!(check.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("added operation GetTransactionSummary"),
        "{msg}"
    );

    // `regen` prints the difference and records it in CHANGES.md, newest first.
    let out = ws.regen(&["--upstream-revision", "0123456789ab"]);
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    let expected = [
        "added operation GetTransactionSummary: GET /app/transactions/{transactionId}/summary",
        "added field Collection.createdAt: optional, string (date-time)",
        "removed operation DeleteUser: DELETE /app/users/{userId}",
    ];
    let changes = ws.read("CHANGES.md");
    for line in expected {
        assert!(msg.contains(line), "regen output lacks `{line}`:\n{msg}");
        assert!(
            changes.contains(line),
            "CHANGES.md lacks `{line}`:\n{changes}"
        );
    }
    // The new section comes first; the earlier ones are kept as they were.
    let newest = changes.find("upstream 0123456789ab").unwrap();
    assert!(
        newest < changes.find("upstream 1c32885b4ed3").unwrap(),
        "{changes}"
    );
    assert!(changes.ends_with(&before_changes[before_changes.find("\n## ").unwrap() + 1..]));
    let manifest = xtask::manifest::Manifest::read(&ws.spec).unwrap().unwrap();
    assert_eq!(
        manifest.ledger.upstream_commit.as_deref(),
        Some("0123456789ab")
    );
    let again = ws.regen(&["--check"]);
    assert!(again.status.success(), "{}", text(&again));

    // The gate, on the regenerated spec/ with the real client sources and lists.
    let root = xtask::workspace_root();
    let gaps = coverage::check(
        &ws.spec,
        &root.join(coverage::COVERAGE_FILE),
        &root.join("src"),
    )
    .unwrap();
    let shown: Vec<String> = gaps.iter().map(ToString::to_string).collect();
    assert!(
        gaps.contains(&Gap::UnwrappedOperation {
            spec: "ledger".into(),
            operation: "get_transaction_summary".into()
        }),
        "{shown:#?}"
    );
    assert!(
        gaps.contains(&Gap::UnlistedField {
            spec: "ledger".into(),
            field: "Collection.createdAt".into(),
            operation: "list_collections".into()
        }),
        "{shown:#?}"
    );
    assert!(
        gaps.contains(&Gap::OperationNotInSpec {
            spec: "ledger".into(),
            operation: "delete_user".into()
        }),
        "{shown:#?}"
    );
    assert_eq!(gaps.len(), 3, "nothing else: {shown:#?}");
    assert!(
        shown
            .iter()
            .any(|g| g.contains("`get_transaction_summary` is not wrapped")),
        "{shown:#?}"
    );
}

#[test]
fn switching_to_the_preview_and_back_is_one_command_each() {
    let Some(data_plane) = data_plane() else {
        eprintln!("skipped: no ../shared/azure-rest-api-specs");
        return;
    };
    let ws = Workspace::new(&data_plane);
    let committed = ["ledger.json", "identity.json", "manifest.json"].map(|f| ws.read(f));

    let out = ws.regen(&["--api-version", "2026-07-31-preview"]);
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    assert!(
        msg.contains("changed api-version: 2026-02-23 -> 2026-07-31-preview"),
        "{msg}"
    );
    assert!(
        msg.contains("applied `preview-write-result-state-optional`"),
        "{msg}"
    );
    // The stable document already carries the preview's write additions (errata
    // `stable-write-*`), and the preview's `state` stays optional (its erratum, as the service
    // sends it only with waitForCommit): the write's surface does not move.
    assert!(!msg.contains("parameter waitForCommit"), "{msg}");
    assert!(!msg.contains("field LedgerWriteResult."), "{msg}");
    assert!(
        msg.contains("added operation CreateLedgerEntry response 503"),
        "{msg}"
    );
    let manifest = xtask::manifest::Manifest::read(&ws.spec).unwrap().unwrap();
    assert_eq!(manifest.ledger.api_version, "2026-07-31-preview");
    assert_eq!(manifest.identity.api_version, "2026-02-23");
    assert_eq!(manifest.errata, ["preview-write-result-state-optional"]);
    // `--check` (what CI runs) stays on the recorded version, and so does a plain `regen`.
    let check = ws.regen(&["--check"]);
    assert!(check.status.success(), "{}", text(&check));
    let plain = ws.regen(&[]);
    assert!(
        text(&plain).contains("already up to date"),
        "{}",
        text(&plain)
    );

    let back = ws.regen(&["--api-version", "2026-02-23"]);
    assert!(back.status.success(), "{}", text(&back));
    let check = ws.regen(&["--check"]);
    assert!(check.status.success(), "{}", text(&check));
    // Byte-identical to the committed spec/, upstream revisions included.
    for (file, before) in ["ledger.json", "identity.json", "manifest.json"]
        .iter()
        .zip(committed)
    {
        assert_eq!(ws.read(file), before, "{file} after the round trip");
    }
    let changes = ws.read("CHANGES.md");
    let back_section = changes
        .find("## ledger 2026-07-31-preview -> 2026-02-23")
        .unwrap();
    let there_section = changes
        .find("## ledger 2026-02-23 -> 2026-07-31-preview")
        .unwrap();
    assert!(back_section < there_section, "newest first:\n{changes}");
}

#[test]
fn an_erratum_that_no_longer_applies_is_reported() {
    let Some(data_plane) = data_plane() else {
        eprintln!("skipped: no ../shared/azure-rest-api-specs");
        return;
    };
    let ws = Workspace::new(&data_plane);
    // Upstream fixes the preview: `state` is no longer required.
    ws.edit_upstream(
        "ConfidentialLedger/preview/2026-07-31-preview/confidentialledger.json",
        |swagger| {
            swagger["definitions"]["LedgerWriteResult"]["required"] = json!(["collectionId"]);
        },
    );
    let out = ws.regen(&["--api-version", "2026-07-31-preview"]);
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    assert!(
        msg.contains("erratum `preview-write-result-state-optional` no longer applies"),
        "{msg}"
    );
    assert!(
        ws.read("CHANGES.md")
            .contains("NO LONGER APPLIES: `preview-write-result-state-optional`")
    );
    let manifest = xtask::manifest::Manifest::read(&ws.spec).unwrap().unwrap();
    assert!(manifest.errata.is_empty(), "{:?}", manifest.errata);
}
