//! `cargo xtask regen [--from DIR] [--api-version V] [--identity-api-version V] [--out DIR]
//! [--check]`.
//!
//! Exit status: 0 done (or `spec/` up to date), 1 `spec/` is stale (`--check`), 2 bad usage or
//! the specs could not be read or converted.

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
