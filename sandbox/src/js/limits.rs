//! The runtime limits of one JavaScript execution, read from the ledger's runtime options
//! (`/app/userDefinedEndpoints/runtimeOptions`) and a call's own overrides.

use std::time::Duration;

use serde_json::Value;

/// The largest heap the sandbox lets one script have, whatever the options say.
pub(crate) const HEAP_CEILING: usize = 1 << 30;
/// The largest stack the sandbox lets one script have, whatever the options say.
pub(crate) const STACK_CEILING: usize = 16 << 20;
/// The longest a script may run, whatever the options say.
pub(crate) const TIME_CEILING: Duration = Duration::from_secs(60);

/// Limits and error-reporting choices for one execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// QuickJS's memory limit, in bytes.
    pub(crate) max_heap_bytes: usize,
    /// QuickJS's stack limit, in bytes.
    pub(crate) max_stack_bytes: usize,
    /// The interrupt handler stops the script after this long.
    pub(crate) max_execution_time: Duration,
    /// Whether an exception's message and trace are logged.
    pub(crate) log_exception_details: bool,
    /// Whether an exception's message and trace are returned to the caller.
    pub(crate) return_exception_details: bool,
}

impl Limits {
    /// The limits of the ledger's `options`, with `overrides` (same field names, `null` or
    /// absent fields keep the ledger's value) applied on top; each is capped by the sandbox's
    /// ceilings so that no option can make a script able to exhaust the host.
    pub(crate) fn from_options(options: &Value, overrides: Option<&Value>) -> Limits {
        let pick = |key: &str| {
            overrides
                .and_then(|o| o.get(key))
                .filter(|v| !v.is_null())
                .or_else(|| options.get(key))
        };
        let number = |key: &str, default: u64| pick(key).and_then(Value::as_u64).unwrap_or(default);
        let flag = |key: &str| pick(key).and_then(Value::as_bool).unwrap_or(false);
        let heap = usize::try_from(number("max_heap_bytes", 104_857_600)).unwrap_or(usize::MAX);
        let stack = usize::try_from(number("max_stack_bytes", 1_048_576)).unwrap_or(usize::MAX);
        Limits {
            max_heap_bytes: heap.min(HEAP_CEILING),
            max_stack_bytes: stack.min(STACK_CEILING),
            max_execution_time: Duration::from_millis(number("max_execution_time_ms", 1000))
                .min(TIME_CEILING),
            log_exception_details: flag("log_exception_details"),
            return_exception_details: flag("return_exception_details"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_apply_and_ceilings_cap() {
        let ledger = crate::ledger::default_runtime_options();
        let l = Limits::from_options(&ledger, None);
        assert_eq!(l.max_heap_bytes, 104_857_600);
        assert_eq!(l.max_execution_time, Duration::from_millis(1000));
        assert!(!l.return_exception_details);
        let l = Limits::from_options(
            &ledger,
            Some(
                &json!({"max_heap_bytes": u64::MAX, "max_execution_time_ms": 50,
                         "return_exception_details": true, "max_stack_bytes": null}),
            ),
        );
        assert_eq!(l.max_heap_bytes, HEAP_CEILING);
        assert_eq!(l.max_stack_bytes, 1_048_576);
        assert_eq!(l.max_execution_time, Duration::from_millis(50));
        assert!(l.return_exception_details);
    }
}
