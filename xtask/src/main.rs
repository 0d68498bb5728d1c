//! `cargo xtask regen [--from DIR] [--api-version V] [--identity-api-version V]
//! [--upstream-revision REV] [--identity-upstream-revision REV] [--out DIR] [--check]` and
//! `cargo xtask surface [--accept]` `cargo xtask modules [--check]` and
//! `cargo xtask msrv`.
//!
//! Exit status: 0 done (or up to date), 1 `spec/` is stale (`--check`) or a snapshot differs
//! (`surface`) or two top-level modules depend on each other (`modules --check`) or a dependency needs a
//! newer Rust than declared (`msrv`), 2 bad usage, or the specs could not be read or converted.

use std::process::ExitCode;

use xtask::cli::{self, Command, RegenArgs};
use xtask::regen::{self, Options};

fn main() -> ExitCode {
    match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::Regen(args)) => run(args),
        Ok(Command::Surface { accept }) => surface(accept),
        Ok(Command::Modules { check }) => modules(check),
        Ok(Command::Msrv) => msrv(),
        Err(e) => {
            eprintln!("error: {e}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
    }
}

fn run(args: RegenArgs) -> ExitCode {
    let root = xtask::workspace_root();
    let from = match args.from {
        Some(dir) => dir,
        None => {
            let default = regen::default_from(&root);
            if !default.is_dir() {
                eprintln!(
                    "error: no Swagger specs to convert.\n\
                     Pass --from <azure-rest-api-specs checkout>/specification/confidentialledger/data-plane\n\
                     (the default, {}, does not exist; CONFIDENTIAL_LEDGER_SHARED=<dir> points it\n\
                     at <dir>/azure-rest-api-specs/...).",
                    default.display()
                );
                return ExitCode::from(2);
            }
            default
        }
    };
    let options = Options {
        from,
        api_version: args.api_version,
        identity_api_version: args.identity_api_version,
        upstream_revision: args.upstream_revision,
        identity_upstream_revision: args.identity_upstream_revision,
        out_dir: args.out.unwrap_or_else(|| root.join("spec")),
        errata: root.join(xtask::errata::ERRATA_FILE),
    };
    let plan = match regen::plan(&options) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for p in &plan.documents {
        for note in &p.notes {
            eprintln!("note: {}: {note}", p.source.relative);
        }
    }
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    for warning in plan.errata_not_applying() {
        eprintln!("warning: {warning}");
    }
    let section = plan.changelog_section();
    if args.check {
        let stale = plan.stale();
        if stale.is_empty() {
            println!(
                "{} is up to date with {}",
                options.out_dir.display(),
                sources(&plan)
            );
            return ExitCode::SUCCESS;
        }
        for s in &stale {
            eprintln!("stale: {s}");
        }
        if let Some(section) = section {
            eprintln!("\nthe API difference `cargo xtask regen` would record:\n\n{section}");
        }
        eprintln!(
            "run `cargo xtask regen` to update them (it stays on the api-versions spec/manifest.json names; \
             then review spec/CHANGES.md and the snapshot diffs, see the README's \"Regenerating the client\")"
        );
        return ExitCode::from(1);
    }
    match plan.write() {
        Ok(written) if written.is_empty() => {
            println!(
                "{} already up to date with {}",
                options.out_dir.display(),
                sources(&plan)
            );
            ExitCode::SUCCESS
        }
        Ok(written) => {
            if let Some(section) = section {
                println!("{section}");
            }
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn sources(plan: &regen::Plan) -> String {
    plan.documents
        .iter()
        .map(|p| p.source.relative.as_str())
        .collect::<Vec<_>>()
        .join(" and ")
}

fn surface(accept: bool) -> ExitCode {
    let root = xtask::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let ledger_api_version = match xtask::manifest::Manifest::read(&root.join("spec")) {
        Ok(Some(manifest)) => manifest.ledger.api_version,
        Ok(None) => {
            eprintln!("error: spec/manifest.json is missing: run `cargo xtask regen` first");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result =
        xtask::surface::find_out_dir(&target, &root.join("spec/ledger.json")).and_then(|out| {
            xtask::surface::compare(&root.join("tests/snapshots"), &out, &ledger_api_version)
        });
    let comparisons = match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let changed: Vec<_> = comparisons.iter().filter(|c| !c.diff.is_empty()).collect();
    if changed.is_empty() {
        println!("the generated code matches every snapshot in tests/snapshots");
        return ExitCode::SUCCESS;
    }
    for c in &changed {
        if accept {
            if let Err(e) = c.accept() {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            println!("accepted {}", c.snapshot.display());
        } else {
            println!("--- {}\n+++ generated\n{}", c.snapshot.display(), c.diff);
        }
    }
    if accept {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{} snapshot(s) differ; `cargo xtask surface --accept` takes the generated ones",
            changed.len()
        );
        ExitCode::from(1)
    }
}

fn modules(check: bool) -> ExitCode {
    let root = xtask::workspace_root();
    let src = root.join("src");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    // The generated clients are include!d from the build's OUT_DIR: read them when built.
    let out_dir = xtask::surface::find_out_dir(&target, &root.join("spec/ledger.json")).ok();
    let graph = match xtask::modules::Graph::read(&src, out_dir.as_deref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !check {
        for (from, to) in graph.top_level_edges() {
            let to: Vec<_> = to.into_iter().collect();
            println!("{from} -> {}", to.join(", "));
        }
        for parent in graph.top_level() {
            for cycle in graph.cycles_within(parent) {
                println!("(second level, not enforced) cycle: {}", cycle.join(", "));
            }
        }
    }
    for missing in graph.missing_includes() {
        eprintln!(
            "{}: {missing} is include!d from the build output, which was not found \
             (run `cargo check -p confidential-ledger` first): its uses are not in the graph",
            if check { "error" } else { "warning" }
        );
    }
    if check && !graph.missing_includes().is_empty() {
        // A check that cannot see the generated code must not pass.
        return ExitCode::from(2);
    }
    let cycles = graph.cycles();
    if cycles.is_empty() {
        println!(
            "no cycle between the top-level modules of {}",
            src.display()
        );
        ExitCode::SUCCESS
    } else {
        eprint!("{}", xtask::modules::report(&graph, &cycles));
        ExitCode::from(1)
    }
}

fn msrv() -> ExitCode {
    match xtask::msrv::run(&xtask::workspace_root(), "confidential-ledger") {
        Ok(report) if report.too_new.is_empty() => {
            println!(
                "rust-version {} holds: {} resolved packages declare one no newer \
                 ({} declare none and cannot be checked)",
                report.declared, report.checked, report.undeclared
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            for (package, version) in &report.too_new {
                eprintln!("{package} needs rust-version {version}");
            }
            eprintln!(
                "{} package(s) need a newer Rust than the declared rust-version {}",
                report.too_new.len(),
                report.declared
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
