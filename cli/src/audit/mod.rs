//! `audit`: every entry of a range, its receipt verified with the client's shared verifier and
//! its ledger-entry claim checked against the entry, with bounded concurrency, a progress bar,
//! a checkpoint to resume from, and a report.
//!
//! Memory is flat in the range's length: entries stream from the library's pager through at
//! most `--concurrency` receipt fetches (in order, so the checkpoint is an exact prefix), and
//! the report keeps counts and a bounded list of failures.

mod check;
mod checkpoint;
mod progress;
mod report;

use std::future::ready;
use std::time::{Duration, Instant};

use confidential_ledger::{ConfidentialLedgerClient, TransactionId};
use futures::{StreamExt, TryStreamExt};

use crate::args::AuditArgs;
use crate::error::{CliError, CliResult};
use crate::options;
use crate::output::{self, Output};
use check::Outcome;
use progress::Progress;
use report::Report;

/// How often the checkpoint is saved while the audit runs.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// `audit`.
pub async fn run(client: &ConfidentialLedgerClient, args: &AuditArgs, out: Output) -> CliResult {
    let verifier = client.receipt_verifier().map_err(CliError::ledger(
        "the pinned service certificate cannot verify receipts",
    ))?;
    let from = parse(args.from.as_deref(), "--from")?;
    let to = parse(args.to.as_deref(), "--to")?;
    let resumed = match &args.checkpoint {
        Some(path) => checkpoint::load(path)?,
        None => None,
    };
    let mut report = match resumed {
        Some(report) => resume(report, client, args, from, to)?,
        None => Report {
            ledger_id: client.ledger_id().to_owned(),
            collection: args.collection.clone(),
            from,
            to: match to {
                Some(to) => Some(to),
                None => latest(client, args.collection.as_deref()).await?,
            },
            service_certificate_sha256: verifier.service_certificate_sha256().to_hex(),
            runs: 1,
            ..Report::default()
        },
    };
    if report.runs > 1 {
        eprintln!(
            "resuming the audit after {} ({} entries audited before)",
            report
                .last_transaction
                .map_or("the start".to_owned(), |id| id.to_string()),
            report.entries
        );
    }

    let started = Instant::now();
    let wall_before = report.wall_seconds;
    let mut progress = Progress::new(
        report.last_transaction.or(report.from),
        report.to,
        args.no_progress,
    );
    let mut stop = Stop::Finished;
    if report.to.is_some() {
        let skip_through = report.last_transaction;
        let listing = options::list_entries(
            report.collection.as_deref(),
            report.last_transaction.or(report.from),
            report.to,
            None,
        );
        let limit = args
            .max_entries
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let verifier = &*verifier;
        let mut checks = client
            .list_ledger_entries(Some(listing))
            .try_filter(move |entry| {
                ready(skip_through.is_none_or(|last| entry.transaction_id > last))
            })
            .take(limit)
            .map(|item| async move {
                let entry = item?;
                let (outcome, spent) = check::check(client, verifier, &entry).await;
                Ok::<_, confidential_ledger::Error>((entry.transaction_id, outcome, spent))
            })
            .buffered(usize::from(args.concurrency));
        let interrupted = crate::signal::ctrl_c().map_err(CliError::Output)?;
        tokio::pin!(interrupted);
        let mut this_run = 0u64;
        let mut saved = Instant::now();
        loop {
            let next = tokio::select! {
                biased;
                () = &mut interrupted => { stop = Stop::Interrupted; break; }
                next = checks.next() => next,
            };
            match next {
                None => break,
                Some(Err(e)) => {
                    stop = Stop::ListFailed(e);
                    break;
                }
                Some(Ok((id, outcome, spent))) => {
                    report.verify_seconds += spent.as_secs_f64();
                    match outcome {
                        Outcome::Verified {
                            node,
                            chain,
                            claims,
                        } => report.record_verified(id, node, chain, claims),
                        Outcome::Failed { step, error } => report.record_failure(id, step, error),
                    }
                    this_run += 1;
                    progress.advance(id, report.entries, report.failed);
                    if let Some(path) = args
                        .checkpoint
                        .as_ref()
                        .filter(|_| saved.elapsed() >= CHECKPOINT_EVERY)
                    {
                        report.wall_seconds = wall_before + started.elapsed().as_secs_f64();
                        checkpoint::save(path, &report)?;
                        saved = Instant::now();
                    }
                }
            }
        }
        if matches!(stop, Stop::Finished) && args.max_entries.is_some_and(|n| this_run >= n) {
            stop = Stop::Limit;
        }
    }
    progress.finish();
    report.wall_seconds = wall_before + started.elapsed().as_secs_f64();
    report.complete = matches!(stop, Stop::Finished);
    finish(report, stop, args, out)
}

/// Why the audit loop ended.
enum Stop {
    Finished,
    Limit,
    Interrupted,
    ListFailed(confidential_ledger::Error),
}

/// Saves or removes the checkpoint, prints the summary and report, and turns the outcome into
/// the exit status.
fn finish(report: Report, stop: Stop, args: &AuditArgs, out: Output) -> CliResult {
    if let Some(path) = &args.checkpoint {
        if report.complete {
            checkpoint::remove(path)?;
        } else {
            checkpoint::save(path, &report)?;
        }
    }
    eprint!("{}", report.summary());
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::write(path)(std::io::Error::other(e)))?;
        std::fs::write(path, format!("{text}\n")).map_err(CliError::write(path))?;
    }
    if out.json {
        output::json_line(&report)?;
    }
    let resume = match &args.checkpoint {
        Some(path) => format!(
            "; the checkpoint {} resumes it: run the same command again",
            path.display()
        ),
        None => "; pass --checkpoint FILE to be able to resume".to_owned(),
    };
    match stop {
        Stop::Interrupted => return Err(CliError::Interrupted(resume)),
        Stop::ListFailed(source) => {
            return Err(CliError::Ledger {
                context: format!("the audit stopped: the entries could not be listed{resume}"),
                source,
            });
        }
        Stop::Limit => eprintln!(
            "stopped after --max-entries {}{resume}",
            args.max_entries.unwrap_or_default()
        ),
        Stop::Finished => {}
    }
    if report.failed > 0 {
        let first = report.failures.first().map_or(String::new(), |f| {
            format!("; first: {} at {}", f.transaction_id, f.step)
        });
        return Err(CliError::Verification(format!(
            "{} of {} entries failed the audit{first}",
            report.failed, report.entries
        )));
    }
    Ok(())
}

/// The checkpoint's report, if it is about the same audit.
fn resume(
    mut report: Report,
    client: &ConfidentialLedgerClient,
    args: &AuditArgs,
    from: Option<TransactionId>,
    to: Option<TransactionId>,
) -> CliResult<Report> {
    let same = report.ledger_id == client.ledger_id()
        && report.collection == args.collection
        && report.from == from
        && (to.is_none() || to == report.to);
    if !same {
        return Err(CliError::Usage(format!(
            "the checkpoint is of another audit (ledger {:?}, collection {}, range {} to {}); \
             use another --checkpoint file or delete it",
            report.ledger_id,
            report.collection.as_deref().unwrap_or("(default)"),
            report.from.map_or("start".to_owned(), |id| id.to_string()),
            report.to.map_or("-".to_owned(), |id| id.to_string()),
        )));
    }
    report.runs += 1;
    Ok(report)
}

/// The latest entry of the collection (the end of an audit without `--to`); `None` when the
/// collection is empty.
async fn latest(
    client: &ConfidentialLedgerClient,
    collection: Option<&str>,
) -> CliResult<Option<TransactionId>> {
    match client
        .get_current_ledger_entry(Some(options::current_entry(collection)))
        .await
    {
        Ok(entry) => Ok(Some(entry.transaction_id)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(CliError::ledger("cannot read the latest entry")(e)),
    }
}

fn parse(text: Option<&str>, what: &str) -> CliResult<Option<TransactionId>> {
    text.map(|t| options::transaction_id(t, what)).transpose()
}
