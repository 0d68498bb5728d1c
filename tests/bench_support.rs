//! The pure helpers of the side-by-side benchmark: `benches/support/side_by_side.rs` and
//! `testkit::memory` (Rust half) and `benches/python/report.py` (the report, through its unit
//! tests in `benches/python/test_report.py`). The benchmark itself runs only from
//! `benches/side_by_side.sh`, never in tests.

#[path = "../benches/support/side_by_side.rs"]
mod side_by_side;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use side_by_side::{Args, ArgsError, ENTRY_BYTES, contents, per_operation};
use testkit::memory::{peak_and_current_kib, status_kib};

fn args(line: &str) -> Result<Args, ArgsError> {
    Args::parse(line.split_whitespace().map(str::to_owned))
}

#[test]
fn contents_are_padded_to_the_entry_size_and_distinct() {
    let a = contents("client", 3, 42);
    assert_eq!(a.len(), ENTRY_BYTES);
    assert!(a.starts_with("side-by-side client writer 03 entry 00000042 ."));
    assert!(a.ends_with('.'));
    assert_ne!(a, contents("client", 3, 43));
    assert_ne!(a, contents("client", 4, 42));
    assert_ne!(a, contents("bare", 3, 42));
    // A label too long for the size is kept whole, not cut.
    let long = "x".repeat(ENTRY_BYTES);
    assert!(contents(&long, 0, 0).contains(&long));
}

const STATUS: &str = "Name:\tside_by_side\nUmask:\t0022\nVmPeak:\t  912344 kB\n\
                      VmHWM:\t   21484 kB\nVmRSS:\t   19876 kB\nThreads:\t3\n";

#[test]
fn memory_fields_are_read_from_proc_status() {
    assert_eq!(status_kib(STATUS, "VmHWM"), Some(21_484));
    assert_eq!(status_kib(STATUS, "VmRSS"), Some(19_876));
    assert_eq!(peak_and_current_kib(STATUS), (21_484, 19_876));
    // A prefix of another field's name is not that field.
    assert_eq!(status_kib(STATUS, "Vm"), None);
    assert_eq!(status_kib(STATUS, "VmSwap"), None);
    // Malformed values and other units are refused, not misread.
    assert_eq!(status_kib("VmHWM:\tlots kB\n", "VmHWM"), None);
    assert_eq!(status_kib("VmHWM:\t12 MB\n", "VmHWM"), None);
    assert_eq!(status_kib("VmHWM:\n", "VmHWM"), None);
    assert_eq!(peak_and_current_kib(""), (0, 0));
}

#[test]
fn this_process_reports_its_peak_memory() {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let (peak, current) = peak_and_current_kib(&status);
    assert!(current > 0, "{status}");
    assert!(peak >= current, "peak {peak} < current {current}");
}

#[test]
fn rates_and_cpu_per_operation() {
    let (rate, cpu_us) = per_operation(500, Duration::from_secs(2), Duration::from_millis(100));
    assert!((rate - 250.0).abs() < 1e-9);
    assert!((cpu_us - 200.0).abs() < 1e-9);
    // No operations: no division by zero.
    let (rate, cpu_us) = per_operation(0, Duration::ZERO, Duration::from_millis(1));
    assert_eq!(rate, 0.0);
    assert!((cpu_us - 1000.0).abs() < 1e-9);
}

#[test]
fn command_lines_parse() {
    let a = args("writes --bench --seconds 1 --concurrency 1,32 --seconds 2.5").unwrap();
    assert_eq!(a.mode.as_deref(), Some("writes"));
    assert_eq!(a.parse_value::<f64>("seconds").unwrap(), 2.5);
    assert_eq!(a.counts("concurrency").unwrap(), vec![1, 32]);
    assert_eq!(
        a.get("round").unwrap_err().to_string(),
        "--round is required for writes"
    );
    assert!(
        a.parse_value::<u32>("seconds")
            .unwrap_err()
            .0
            .starts_with("--seconds: ")
    );

    // What `cargo bench` and `cargo test` run: no mode at all.
    assert_eq!(args("--bench").unwrap().mode, None);
    assert_eq!(args("").unwrap().mode, None);

    assert!(args("--seconds 1").is_err(), "a flag where the mode goes");
    assert_eq!(
        args("writes seconds 1").unwrap_err().0,
        "unexpected argument seconds"
    );
    assert_eq!(
        args("writes --seconds").unwrap_err().0,
        "--seconds needs a value"
    );
    let zero = args("writes --concurrency 1,0").unwrap();
    assert!(zero.counts("concurrency").is_err());
    let junk = args("writes --concurrency 1,x").unwrap();
    assert!(junk.counts("concurrency").is_err());
}

#[test]
fn report_helpers_pass_their_python_unit_tests() {
    let Some(python) = testkit::python::interpreter() else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/python");
    let out = Command::new(&python)
        .args(["-m", "unittest", "discover", "-s"])
        .arg(&dir)
        .args(["-p", "test_*.py", "-v"])
        .output()
        .expect("run Python");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "report.py unit tests failed:\n{stderr}"
    );
    // unittest reports on stderr: make sure the tests were found and ran.
    assert!(stderr.contains("\nOK"), "{stderr}");
    assert!(!stderr.contains("Ran 0 tests"), "{stderr}");
}
