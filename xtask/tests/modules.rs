//! `cargo xtask modules --check`: the module graph of a source tree on disk, and the crate's own.

use std::collections::BTreeMap;
use std::path::Path;

use xtask::modules::Graph;

fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn a_cycle_between_top_level_modules_is_reported_with_the_uses_that_make_it() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "lib.rs",
                "pub mod client; pub mod settings; mod wire;\npub use settings::Options;",
            ),
            ("client/mod.rs", "mod builder;\npub struct Client;"),
            (
                "client/builder.rs",
                "use crate::Options;\nuse super::Client;",
            ),
            (
                "settings.rs",
                "pub struct Options { pub x: crate::wire::Proxy }",
            ),
            (
                "wire.rs",
                "pub struct Proxy;\nfn f(_: &crate::client::Client) {}",
            ),
        ],
    );
    let graph = Graph::read(dir.path(), None).unwrap();
    let cycles = graph.cycles();
    assert_eq!(cycles, vec![vec!["client", "settings", "wire"]]);
    let report = xtask::modules::report(&graph, &cycles);
    assert!(
        report.contains("client -> settings: client::builder uses crate::Options"),
        "{report}"
    );
    assert!(
        report.contains("wire -> client: wire uses crate::client::Client"),
        "{report}"
    );

    // Break it: the proxy type moves out of the layer that needs the client.
    std::fs::write(dir.path().join("wire.rs"), "pub struct Proxy;").unwrap();
    assert!(Graph::read(dir.path(), None).unwrap().cycles().is_empty());
}

#[test]
fn code_included_from_the_build_output_counts_when_given() {
    let files = [
        ("lib.rs", "pub mod raw; pub mod hooks;"),
        (
            "raw.rs",
            r#"pub mod ledger { include!(concat!(env!("OUT_DIR"), "/ledger.rs")); }"#,
        ),
        ("hooks.rs", "use crate::raw::ledger::Client;"),
    ];
    let without = Graph::from_sources(files).unwrap();
    assert!(without.cycles().is_empty());
    assert_eq!(
        without.missing_includes().iter().collect::<Vec<_>>(),
        ["ledger.rs"]
    );
    let generated = BTreeMap::from([(
        "ledger.rs".to_string(),
        "pub struct Client { inner: crate::hooks::State }".to_string(),
    )]);
    let with = Graph::from_sources_with_includes(files, &generated).unwrap();
    assert_eq!(with.cycles(), vec![vec!["hooks", "raw"]]);
}

#[test]
fn the_client_crate_has_no_cycle_and_keeps_the_layers_of_its_module_map() {
    let root = xtask::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    // The generated clients are read from the build output when there is one (the client's
    // tests build it); without it their uses are left out, and the test says so.
    let out_dir = xtask::surface::find_out_dir(&target, &root.join("spec/ledger.json")).ok();
    let graph = Graph::read(&root.join("src"), out_dir.as_deref()).unwrap();
    if !graph.missing_includes().is_empty() {
        eprintln!(
            "note: no build output; the generated code's uses are not checked: {:?}",
            graph.missing_includes()
        );
    }
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "{}",
        xtask::modules::report(&graph, &cycles)
    );
    // The layers of the module map in src/lib.rs, top to bottom: no module uses one above it.
    let layers: &[&[&str]] = &[
        // The deprecated aliases of the former raw-client paths, then the user API.
        &["generated", "hooks", "operation_facts"],
        &["client", "blocking", "identity", "models", "response_meta"],
        &["raw"],
        &["pipeline", "options", "http_client", "validate"],
        &["error"],
        &["tls", "credential"],
        &[
            "poller",
            "pager",
            "receipt",
            "transaction_id",
            "transaction_id_arg",
            "fingerprint",
            "headers",
            "crypto",
            "pem_file",
        ],
    ];
    let layer_of = |module: &str| {
        layers
            .iter()
            .position(|layer| layer.contains(&module))
            .unwrap_or_else(|| panic!("{module} is in no layer of the module map"))
    };
    for (from, targets) in graph.top_level_edges() {
        for to in targets {
            assert!(
                layer_of(&to) >= layer_of(&from),
                "{from} uses {to}, a layer above it: {:?}",
                graph.reasons(&from, &to)
            );
        }
    }
}
