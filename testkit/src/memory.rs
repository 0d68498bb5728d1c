//! Memory of a process as Linux reports it in `/proc/<pid>/status`, for benchmarks.

/// A `Name:   1234 kB` field of `/proc/<pid>/status`, in KiB; `None` when absent or malformed.
pub fn status_kib(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (field, rest) = line.split_once(':')?;
        if field != name {
            return None;
        }
        let mut words = rest.split_whitespace();
        let value = words.next()?.parse().ok()?;
        match words.next() {
            Some("kB") | None => Some(value),
            Some(_) => None,
        }
    })
}

/// Peak and current resident set size (`VmHWM`, `VmRSS`) in `status`, in KiB (0 if absent).
pub fn peak_and_current_kib(status: &str) -> (u64, u64) {
    (
        status_kib(status, "VmHWM").unwrap_or(0),
        status_kib(status, "VmRSS").unwrap_or(0),
    )
}

/// Peak and current resident set size of this process, in KiB (0 where `/proc` is missing).
///
/// # Examples
///
/// ```
/// let (peak, current) = testkit::memory::own_peak_and_current_kib();
/// assert!(peak >= current);
/// ```
pub fn own_peak_and_current_kib() -> (u64, u64) {
    peak_and_current_kib(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
}
