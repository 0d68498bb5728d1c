//! Input checks made before anything is sent: every failure is
//! [`InvalidInput`](crate::ErrorKind::InvalidInput), and names what is wrong.

use crate::{ClientOptions, Error};

/// The longest id or name (user ids, collection ids, tags, role and function names) accepted.
pub(crate) const MAX_NAME_CHARS: usize = 256;

/// A name sent in a path or query: not empty, at most [`MAX_NAME_CHARS`] characters, no
/// control characters, no surrounding whitespace.
pub(crate) fn name(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_input(format!("the {what} is empty")));
    }
    let chars = value.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(Error::invalid_input(format!(
            "the {what} has {chars} characters; at most {MAX_NAME_CHARS} are allowed"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "the {what} {value:?} contains control characters"
        )));
    }
    if value.trim() != value {
        return Err(Error::invalid_input(format!(
            "the {what} {value:?} starts or ends with whitespace"
        )));
    }
    Ok(())
}

/// A user id: an Entra object id, a certificate fingerprint (`5F:23:…`), or any other id the
/// ledger knows (it takes any text; `/`, `?`, `#`, `%`, `+`, spaces and non-ASCII characters are
/// percent-encoded in the path, and the ledger decodes them back), as long as it can be one
/// path segment.
pub(crate) fn user_id(value: &str) -> Result<(), Error> {
    name("user id", value)?;
    path_segment("user id", value)
}

/// A value sent as one segment of a URL path. URL parsing (the WHATWG URL standard, which the
/// `url` crate under reqwest follows) turns a `\` into a `/` and removes the segments `.` and
/// `..`, so such a value would reach another path: it is refused rather than sent elsewhere.
fn path_segment(what: &str, value: &str) -> Result<(), Error> {
    if value.contains('\\') {
        return Err(Error::invalid_input(format!(
            "the {what} {value:?} contains '\\', which URLs treat as '/': it cannot be sent in \
             a request path"
        )));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid_input(format!(
            "the {what} {value:?} is a relative path segment, which URLs remove: it cannot be \
             sent in a request path"
        )));
    }
    Ok(())
}

/// A ledger id: a host label (letters, digits, '-').
pub(crate) fn ledger_id(value: &str) -> Result<(), Error> {
    name("ledger id", value)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::invalid_input(format!(
            "the ledger id {value:?} may only contain letters, digits, '-' and '_'"
        )));
    }
    Ok(())
}

/// A function id: a name without ':' (which separates the `:execute` action).
pub(crate) fn function_id(value: &str) -> Result<(), Error> {
    name("function id", value)?;
    if value.contains([':', '/']) {
        return Err(Error::invalid_input(format!(
            "the function id {value:?} must not contain ':' or '/'"
        )));
    }
    path_segment("function id", value)
}

/// Tags, sent joined with commas: each a name without a comma.
pub(crate) fn tags(values: &[String]) -> Result<Option<String>, Error> {
    if values.is_empty() {
        return Ok(None);
    }
    for tag in values {
        name("tag", tag)?;
        if tag.contains(',') {
            return Err(Error::invalid_input(format!(
                "the tag {tag:?} contains a comma, which separates tags"
            )));
        }
    }
    Ok(Some(values.join(",")))
}

/// The contents of an entry: not empty, at most `max_bytes` bytes of UTF-8.
pub(crate) fn entry(contents: &str, max_bytes: usize) -> Result<(), Error> {
    if contents.is_empty() {
        return Err(Error::invalid_input(
            "the entry is empty; a ledger entry needs contents",
        ));
    }
    if contents.len() > max_bytes {
        return Err(Error::invalid_input(format!(
            "the entry has {} bytes, more than the {max_bytes} bytes allowed \
             (ClientOptions::max_entry_bytes)",
            contents.len()
        )));
    }
    Ok(())
}

/// Options that cannot work.
pub(crate) fn options(options: &ClientOptions) -> Result<(), Error> {
    name("api-version", &options.api_version)?;
    name("identity api-version", &options.identity_api_version)?;
    if options.max_entry_bytes == 0 {
        return Err(Error::invalid_input(
            "ClientOptions::max_entry_bytes is 0: no entry could be written",
        ));
    }
    if options.call_timeout == Some(std::time::Duration::ZERO) {
        return Err(Error::invalid_input(
            "ClientOptions::call_timeout is 0: every call would time out at once; use None for \
             no overall bound",
        ));
    }
    if options.credential_scopes.is_empty() {
        return Err(Error::invalid_input(
            "ClientOptions::credential_scopes is empty: no token could be requested",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn refused(result: Result<impl std::fmt::Debug, Error>) -> String {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);
        err.to_string()
    }

    #[test]
    fn names_and_ids() {
        name("collection id", "subledger:0").unwrap();
        user_id("5F:23:3D:AA").unwrap();
        user_id("0f6b1e29-0000-4000-8000-000000000000").unwrap();
        assert!(refused(user_id("")).contains("empty"));
        assert!(refused(user_id(" padded")).contains("whitespace"));
        // Encoded in the path, decoded back by the ledger.
        for id in [
            "a/b",
            "a?b",
            "a#b",
            "a+b",
            "100%",
            "with space",
            "用户",
            ".hidden",
            "...",
        ] {
            user_id(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
        // What URL parsing would turn into another path.
        assert!(refused(user_id("a\\b")).contains("'\\'"));
        assert!(refused(user_id(".")).contains("relative path segment"));
        assert!(refused(user_id("..")).contains("relative path segment"));
        assert!(refused(function_id("..")).contains("relative path segment"));
        assert!(refused(user_id("a\u{7}")).contains("control"));
        assert!(refused(user_id(&"x".repeat(257))).contains("257 characters"));
        ledger_id("my-ledger").unwrap();
        assert!(refused(ledger_id("my.ledger")).contains("letters, digits"));
        function_id("hello").unwrap();
        assert!(refused(function_id("a:execute")).contains("':'"));
    }

    #[test]
    fn tags_are_joined_and_checked() {
        assert_eq!(tags(&[]).unwrap(), None);
        assert_eq!(
            tags(&["a".into(), "b".into()]).unwrap().as_deref(),
            Some("a,b")
        );
        assert!(refused(tags(&["a,b".into()])).contains("comma"));
    }

    #[test]
    fn entries_have_a_documented_limit() {
        entry("x", 1).unwrap();
        assert!(refused(entry("", 10)).contains("empty"));
        assert!(refused(entry("héllo", 5)).contains("6 bytes, more than the 5 bytes"));
    }
}
