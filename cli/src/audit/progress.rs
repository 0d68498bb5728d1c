//! The audit's progress bar: position in the range by sequence number, rate and ETA; hidden
//! when stderr is not a terminal or with `--no-progress`.

use std::io::IsTerminal;

use confidential_ledger::TransactionId;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress through `from..=to`.
pub struct Progress {
    bar: ProgressBar,
    start: Option<u64>,
    end: Option<u64>,
}

impl Progress {
    /// A bar for the range up to `to`, starting at `from` (or at the first entry seen).
    pub fn new(from: Option<TransactionId>, to: Option<TransactionId>, hidden: bool) -> Self {
        let bar = if hidden || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {percent:>3}% of the range, {per_sec}, ETA {eta}  {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        };
        let mut progress = Progress {
            bar,
            start: from.map(|f| f.seqno),
            end: to.map(|t| t.seqno),
        };
        progress.set_length();
        progress
    }

    fn set_length(&mut self) {
        if let (Some(start), Some(end)) = (self.start, self.end) {
            self.bar.set_length(end.saturating_sub(start) + 1);
        }
    }

    /// The entry `id` is done; `entries` and `failed` so far.
    pub fn advance(&mut self, id: TransactionId, entries: u64, failed: u64) {
        if self.start.is_none() {
            self.start = Some(id.seqno);
            self.set_length();
        }
        let start = self.start.unwrap_or(id.seqno);
        self.bar.set_position(id.seqno.saturating_sub(start) + 1);
        if entries.is_multiple_of(64) || failed > 0 {
            self.bar
                .set_message(format!("{entries} entries, {failed} failed"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
