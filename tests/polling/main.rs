//! Pollers and pagers against fake step and fetch functions, in virtual time (tokio's paused
//! clock), and real list responses replayed from recordings.

mod pager;
mod poller;
mod recordings;
mod support;
