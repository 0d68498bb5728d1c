//! `write`, `read`, `list`: entries.

use confidential_ledger::ConfidentialLedgerClient;
use confidential_ledger::models::LedgerEntry;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

use crate::args::{ListArgs, ReadArgs, WriteArgs};
use crate::commands::input;
use crate::error::{CliError, CliResult};
use crate::options;
use crate::output::{self, Output};

/// `write`.
pub async fn write(client: &ConfidentialLedgerClient, args: &WriteArgs, out: Output) -> CliResult {
    let text = match (&args.contents, &args.file) {
        (Some(contents), None) if contents != "-" => contents.clone(),
        (_, file) => input::read_text(file.as_deref())?,
    };
    if args.each_line {
        return write_lines(client, args, &text, out).await;
    }
    let options = options::create_entry(args.collection.as_deref(), &args.tags);
    let written = if args.wait {
        client
            .create_ledger_entry_and_wait(text, Some(options))
            .await
    } else {
        client.create_ledger_entry(text, Some(options)).await
    }
    .map_err(CliError::ledger("cannot write the entry"))?;
    let state = if args.wait { "Committed" } else { "Pending" };
    out.show(
        &json!({
            "transactionId": written.transaction_id,
            "collectionId": written.collection_id,
            "state": state,
        }),
        || {
            format!(
                "{} {} (collection {})",
                written.transaction_id,
                state.to_lowercase(),
                written.collection_id
            )
        },
    )
}

/// `write --each-line`: every non-empty line is an entry, `--concurrency` in flight, in input
/// order on stdout; with `--wait`, waits for the commit of the highest transaction id (commits
/// are in order, so every other write is then committed too).
async fn write_lines(
    client: &ConfidentialLedgerClient,
    args: &WriteArgs,
    text: &str,
    out: Output,
) -> CliResult {
    let lines = text.lines().filter(|l| !l.is_empty());
    let mut writes = futures::stream::iter(lines.map(|line| {
        let options = options::create_entry(args.collection.as_deref(), &args.tags);
        async move {
            client
                .create_ledger_entry(line, Some(options))
                .await
                .map_err(CliError::ledger(format!("cannot write the line {line:?}")))
        }
    }))
    .buffered(usize::from(args.concurrency));
    let mut last = None;
    let mut count = 0u64;
    while let Some(written) = writes.next().await {
        let written = written?;
        count += 1;
        out.item(
            &json!({
                "transactionId": written.transaction_id,
                "collectionId": written.collection_id,
            }),
            || {
                format!(
                    "{} (collection {})",
                    written.transaction_id, written.collection_id
                )
            },
        )?;
        last = last.max(Some(written.transaction_id));
    }
    if let (true, Some(last)) = (args.wait, last) {
        output::flush()?;
        client
            .wait_for_commit(last, None)
            .await
            .map_err(CliError::ledger(format!(
                "cannot wait for the commit of {last}"
            )))?;
        eprintln!("{count} entries written, committed up to {last}");
    } else {
        eprintln!("{count} entries written");
    }
    Ok(())
}

/// `read`.
pub async fn read(client: &ConfidentialLedgerClient, args: &ReadArgs, out: Output) -> CliResult {
    let entry = match &args.transaction_id {
        Some(id) if !args.current => {
            let id = options::transaction_id(id, "the transaction id")?;
            client
                .get_ledger_entry(id, Some(options::get_entry(args.collection.as_deref())))
                .await
                .map_err(CliError::ledger(format!("cannot read {id}")))?
        }
        _ => client
            .get_current_ledger_entry(Some(options::current_entry(args.collection.as_deref())))
            .await
            .map_err(CliError::ledger("cannot read the latest entry"))?,
    };
    out.show(&entry, || entry.contents.clone())
}

/// `list`: streams the range, one entry per line, as the pages arrive (the library's pager
/// waits out `Loading`).
pub async fn list(client: &ConfidentialLedgerClient, args: &ListArgs, out: Output) -> CliResult {
    let from = args
        .from
        .as_deref()
        .map(|t| options::transaction_id(t, "--from"))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|t| options::transaction_id(t, "--to"))
        .transpose()?;
    let options = options::list_entries(args.collection.as_deref(), from, to, args.tag.as_deref());
    let mut entries = client.list_ledger_entries(Some(options));
    let mut count = 0u64;
    while let Some(entry) = entries
        .try_next()
        .await
        .map_err(CliError::ledger("cannot list the entries"))?
    {
        count += 1;
        out.item(&entry, || text_line(&entry))?;
        if count.is_multiple_of(1000) {
            output::flush()?;
        }
    }
    if !out.json {
        eprintln!("{count} entries");
    }
    Ok(())
}

/// An entry on one line: its id, then its contents with line breaks escaped.
fn text_line(entry: &LedgerEntry) -> String {
    format!(
        "{}\t{}",
        entry.transaction_id,
        entry.contents.escape_debug()
    )
}
