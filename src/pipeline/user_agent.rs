//! The `User-Agent` header: `confidential-ledger-rust/<version>`, optionally after an
//! application id.

use reqwest::header::HeaderValue;

use crate::Error;

/// This crate's product token: `confidential-ledger-rust/<crate version>`.
pub const USER_AGENT: &str = concat!("confidential-ledger-rust/", env!("CARGO_PKG_VERSION"));

/// The longest application id accepted (as in the other Azure SDKs).
pub const MAX_APPLICATION_ID_CHARS: usize = 24;

/// The `User-Agent` value: [`USER_AGENT`], preceded by `application_id` and a space when
/// given.
///
/// # Errors
///
/// [`InvalidInput`](crate::ErrorKind::InvalidInput) when the application id is empty, longer
/// than [`MAX_APPLICATION_ID_CHARS`], or holds anything but visible ASCII without spaces.
///
/// # Examples
///
/// ```
/// use confidential_ledger::pipeline::user_agent;
///
/// let plain = user_agent(None)?;
/// assert!(plain.starts_with("confidential-ledger-rust/"));
/// assert!(user_agent(Some("inventory-app"))?.starts_with("inventory-app confidential-ledger-rust/"));
/// assert!(user_agent(Some("has space")).is_err());
/// # Ok::<(), confidential_ledger::Error>(())
/// ```
pub fn user_agent(application_id: Option<&str>) -> Result<String, Error> {
    let Some(id) = application_id else {
        return Ok(USER_AGENT.to_owned());
    };
    if id.is_empty() || id.chars().count() > MAX_APPLICATION_ID_CHARS {
        return Err(Error::invalid_input(format!(
            "the application id must have 1 to {MAX_APPLICATION_ID_CHARS} characters"
        )));
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_input(
            "the application id may only contain visible ASCII characters, without spaces",
        ));
    }
    Ok(format!("{id} {USER_AGENT}"))
}

/// [`user_agent`] as a header value. Without an application id it is a static value, which
/// costs nothing to copy onto each request (a value built at run time is reference counted).
pub(crate) fn header(application_id: Option<&str>) -> Result<HeaderValue, Error> {
    if application_id.is_none() {
        return Ok(HeaderValue::from_static(USER_AGENT));
    }
    let text = user_agent(application_id)?;
    // Visible ASCII and one space: always a valid header value.
    HeaderValue::try_from(text)
        .map_err(|_| Error::invalid_input("the user agent is not a valid header value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_the_crate_version() {
        assert_eq!(
            user_agent(None).unwrap(),
            format!("confidential-ledger-rust/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            header(Some("app/1.2")).unwrap(),
            format!(
                "app/1.2 confidential-ledger-rust/{}",
                env!("CARGO_PKG_VERSION")
            )
            .as_str()
        );
    }

    #[test]
    fn bad_application_ids_are_refused() {
        for bad in [
            "",
            "a b",
            "tab\there",
            "é",
            "x".repeat(25).as_str(),
            "line\n",
        ] {
            assert!(user_agent(Some(bad)).is_err(), "{bad:?}");
        }
        assert!(user_agent(Some(&"x".repeat(24))).is_ok());
    }
}
