//! The HTTP pipeline against local recording servers: retries, redirects, headers, error
//! mapping, and errors carried through the generated client's exec hook.

mod errors;
mod exec_hook;
mod headers;
mod redirect;
mod retry;
mod support;
