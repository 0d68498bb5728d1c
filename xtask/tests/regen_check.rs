//! `cargo xtask regen --check` against temporary copies: it passes on a fresh `spec/`, and fails
//! naming the file when `spec/ledger.json` is edited by hand or when an upstream Swagger file
//! changes. Runs the real `xtask` binary; the workspace's own `spec/` is never touched (it is
//! only read, to check that it is up to date).

mod support;

use support::{copy_specs, data_plane, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("CONFIDENTIAL_LEDGER_SHARED")
        .output()
        .unwrap()
}

/// A temp copy of the specs and a temp `spec/` written from it.
struct Setup {
    _dir: tempfile::TempDir,
    specs: PathBuf,
    out: PathBuf,
}

impl Setup {
    fn new(data_plane: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path().join("data-plane");
        let out = dir.path().join("spec");
        std::fs::create_dir_all(&specs).unwrap();
        copy_specs(data_plane, &specs);
        let setup = Self {
            _dir: dir,
            specs,
            out,
        };
        let written = setup.run(false);
        assert!(written.status.success(), "{}", text(&written));
        setup
    }

    fn run(&self, check: bool) -> Output {
        let mut args = vec![
            "regen",
            "--from",
            self.specs.to_str().unwrap(),
            "--out",
            self.out.to_str().unwrap(),
        ];
        if check {
            args.push("--check");
        }
        xtask(&args)
    }
}

#[test]
fn check_passes_on_fresh_output_and_writes_nothing() {
    let Some(data_plane) = data_plane() else {
        return;
    };
    let setup = Setup::new(&data_plane);
    let ledger = setup.out.join("ledger.json");
    let before = std::fs::metadata(&ledger).unwrap().modified().unwrap();
    let out = setup.run(true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("up to date"), "{}", text(&out));
    assert_eq!(
        std::fs::metadata(&ledger).unwrap().modified().unwrap(),
        before
    );
    // Writing again changes nothing either.
    let again = setup.run(false);
    assert!(
        text(&again).contains("already up to date"),
        "{}",
        text(&again)
    );
}

#[test]
fn check_fails_naming_a_hand_edited_spec() {
    let Some(data_plane) = data_plane() else {
        return;
    };
    let setup = Setup::new(&data_plane);
    let ledger = setup.out.join("ledger.json");
    let original = std::fs::read_to_string(&ledger).unwrap();
    let edited = original.replacen(
        "\"operationId\": \"CreateLedgerEntry\"",
        "\"operationId\": \"WriteEntry\"",
        1,
    );
    assert_ne!(edited, original);
    std::fs::write(&ledger, &edited).unwrap();

    let out = setup.run(true);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("ledger.json") && msg.contains("WriteEntry"),
        "{msg}"
    );
    assert!(!msg.contains("identity.json: differs"), "{msg}");
    assert_eq!(
        std::fs::read_to_string(&ledger).unwrap(),
        edited,
        "--check wrote"
    );

    // A deleted file is named as missing.
    std::fs::remove_file(setup.out.join("identity.json")).unwrap();
    let msg = text(&setup.run(true));
    assert!(msg.contains("identity.json: missing"), "{msg}");
}

#[test]
fn check_fails_when_an_upstream_file_changes() {
    let Some(data_plane) = data_plane() else {
        return;
    };
    let setup = Setup::new(&data_plane);
    let upstream = setup
        .specs
        .join("ConfidentialLedger/stable/2026-02-23/confidentialledger.json");
    let original = std::fs::read_to_string(&upstream).unwrap();
    // A structural change: a new optional property on LedgerWriteResult.
    let mut swagger: serde_json::Value = serde_json::from_str(&original).unwrap();
    swagger["definitions"]["LedgerWriteResult"]["properties"]["receiptReady"] =
        serde_json::json!({"type": "boolean"});
    std::fs::write(&upstream, serde_json::to_string_pretty(&swagger).unwrap()).unwrap();

    let out = setup.run(true);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(msg.contains("ledger.json: differs"), "{msg}");
    assert!(msg.contains("receiptReady"), "{msg}");

    // Prose-only upstream edits do not make spec/ stale: prose is not converted.
    swagger["definitions"]["LedgerWriteResult"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("receiptReady");
    swagger["definitions"]["LedgerWriteResult"]["description"] = "reworded".into();
    std::fs::write(&upstream, serde_json::to_string_pretty(&swagger).unwrap()).unwrap();
    let out = setup.run(true);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_missing_source_folder_says_what_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let out = xtask(&[
        "regen",
        "--from",
        missing.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
        "--check",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nowhere"), "{}", text(&out));
}

#[test]
fn an_unknown_api_version_lists_the_known_ones() {
    let Some(data_plane) = data_plane() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(&[
        "regen",
        "--from",
        data_plane.to_str().unwrap(),
        "--api-version",
        "2001-01-01",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("2026-02-23"), "{}", text(&out));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "wrote something"
    );
}

#[test]
fn the_committed_spec_is_up_to_date_with_the_reference_specs() {
    let Some(data_plane) = data_plane() else {
        return;
    };
    let spec = xtask::workspace_root().join("spec");
    let out = xtask(&[
        "regen",
        "--from",
        data_plane.to_str().unwrap(),
        "--out",
        spec.to_str().unwrap(),
        "--check",
    ]);
    assert!(
        out.status.success(),
        "run `cargo xtask regen`:\n{}",
        text(&out)
    );
}

#[test]
fn a_broken_manifest_is_a_clear_error_and_a_stale_one_is_named() {
    let Some(data_plane) = data_plane() else {
        return;
    };
    let setup = Setup::new(&data_plane);
    let manifest = setup.out.join("manifest.json");
    let good = std::fs::read_to_string(&manifest).unwrap();

    std::fs::write(&manifest, "{").unwrap();
    let out = setup.run(true);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("manifest.json is not a valid manifest"),
        "{}",
        text(&out)
    );

    // A hand-edited upstream revision is stale like a hand-edited document (the temporary
    // specs are no git checkout, so the revision was recorded as unknown).
    let edited = good.replacen(
        "\"upstream_commit\": null",
        "\"upstream_commit\": \"abc\"",
        1,
    );
    assert_ne!(edited, good);
    std::fs::write(&manifest, &edited).unwrap();
    let out = setup.run(true);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("manifest.json: differs"),
        "{}",
        text(&out)
    );
}
