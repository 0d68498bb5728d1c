//! How long a server asked the client to wait: `Retry-After` and its millisecond variants.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Millisecond variants, checked before `Retry-After`, most specific first.
const MILLISECOND_HEADERS: [&str; 2] = ["retry-after-ms", "x-ms-retry-after-ms"];

/// Longer waits are treated as this long: far beyond any retry budget, and safe to add to a
/// time.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The wait a response asks for, if it says: `retry-after-ms` or `x-ms-retry-after-ms`
/// (milliseconds), else `Retry-After` in seconds (decimals accepted) or as an HTTP-date
/// (relative to `now`; a date in the past means no wait). Malformed values are ignored.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    for name in MILLISECOND_HEADERS {
        if let Some(seconds) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_seconds)
        {
            return Some(scale(seconds, 1e-3));
        }
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Some(seconds) = parse_seconds(value) {
        return Some(scale(seconds, 1.0));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(LONGEST),
    )
}

/// A non-negative decimal number.
fn parse_seconds(value: &str) -> Option<f64> {
    let value = value.trim();
    // `f64::from_str` also accepts "inf", "NaN", "+1" and exponents; the headers hold plain
    // decimals.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    // Only digits and dots: an infinite result means a number too large for `f64`.
    value
        .parse::<f64>()
        .ok()
        .map(|v| if v.is_finite() { v } else { f64::MAX })
}

fn scale(value: f64, unit_seconds: f64) -> Duration {
    Duration::try_from_secs_f64(value * unit_seconds)
        .unwrap_or(LONGEST)
        .min(LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn seconds_and_decimals() {
        let now = at(1_000);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "5")]), now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", " 1.5 ")]), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "0")]), now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn http_dates_relative_to_now() {
        // 1994-11-06 08:49:37 UTC is 784111777.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            retry_after(&headers(&[("retry-after", date)]), at(784_111_770)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", date)]), at(784_111_800)),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
    }

    #[test]
    fn millisecond_headers_take_precedence() {
        let now = at(0);
        let both = headers(&[
            ("retry-after", "10"),
            ("x-ms-retry-after-ms", "250"),
            ("retry-after-ms", "100"),
        ]);
        assert_eq!(retry_after(&both, now), Some(Duration::from_millis(100)));
        let ms = headers(&[("retry-after", "10"), ("x-ms-retry-after-ms", "250")]);
        assert_eq!(retry_after(&ms, now), Some(Duration::from_millis(250)));
        let bad_ms = headers(&[("retry-after", "10"), ("retry-after-ms", "soon")]);
        assert_eq!(retry_after(&bad_ms, now), Some(Duration::from_secs(10)));
    }

    #[test]
    fn garbage_is_ignored_and_huge_values_are_clamped() {
        let now = at(0);
        for bad in ["-1", "soon", "inf", "NaN", "1e3", "", "+5", "Sun, 99 Nov"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", bad)]), now),
                None,
                "{bad}"
            );
        }
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
        let huge = "9".repeat(400);
        assert_eq!(
            retry_after(&headers(&[("retry-after", &huge)]), now),
            Some(LONGEST)
        );
        let mut binary = HeaderMap::new();
        binary.insert(RETRY_AFTER, HeaderValue::from_bytes(b"\xff5").unwrap());
        assert_eq!(retry_after(&binary, now), None);
    }
}
