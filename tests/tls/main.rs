//! TLS and credentials against local servers: pinning, host names, client certificates, key
//! formats, and the configuration working inside reqwest (HTTP/1.1 and HTTP/2).

mod certificate_credential;
mod client_certificate;
mod pinned_certificate;
mod pinning;
mod pki;
mod server;
mod through_reqwest;
