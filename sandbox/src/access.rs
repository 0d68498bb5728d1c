//! Roles and what they allow.
//!
//! Built-in roles: `Administrator` (everything), `Contributor` (read and write entries),
//! `Reader` (read entries). User-defined roles (`/app/roles`) grant a list of actions; an action
//! may end in `/*` to grant everything below it, or be `*`.

use std::collections::BTreeMap;

/// Prefix of every action name.
const PREFIX: &str = "Microsoft.ConfidentialLedger/ledger";

/// Something a request does, checked against the caller's roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Read entries, receipts, statuses, collections, tags, governance and quotes.
    Read,
    /// Append entries.
    Write,
    /// Read users.
    UsersRead,
    /// Create, change and delete users.
    UsersWrite,
    /// Read user-defined roles.
    RolesRead,
    /// Create, change and delete user-defined roles.
    RolesWrite,
    /// Read user-defined functions, endpoints and runtime options.
    ProgrammabilityRead,
    /// Change user-defined functions, endpoints and runtime options.
    ProgrammabilityWrite,
    /// Execute user-defined functions.
    Execute,
}

impl Action {
    /// The action's name as used in role definitions.
    pub(crate) fn name(self) -> String {
        let suffix = match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::UsersRead => "users/read",
            Action::UsersWrite => "users/write",
            Action::RolesRead => "roles/read",
            Action::RolesWrite => "roles/write",
            Action::ProgrammabilityRead => "programmability/read",
            Action::ProgrammabilityWrite => "programmability/write",
            Action::Execute => "programmability/execute",
        };
        format!("{PREFIX}/{suffix}")
    }
}

/// The built-in role names.
pub(crate) const BUILTIN_ROLES: [&str; 3] = ["Administrator", "Contributor", "Reader"];

/// The canonical spelling of a built-in role name (case-insensitive match).
pub(crate) fn builtin_role(name: &str) -> Option<&'static str> {
    BUILTIN_ROLES
        .iter()
        .copied()
        .find(|r| r.eq_ignore_ascii_case(name))
}

fn builtin_allows(role: &str, action: Action) -> bool {
    match role {
        "Administrator" => true,
        "Contributor" => matches!(action, Action::Read | Action::Write),
        "Reader" => action == Action::Read,
        _ => false,
    }
}

fn pattern_allows(pattern: &str, action: &str) -> bool {
    let pattern = pattern.trim();
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix("/*") {
        Some(prefix) => action.starts_with(prefix) && action[prefix.len()..].starts_with('/'),
        None => pattern.eq_ignore_ascii_case(action),
    }
}

/// Whether a user holding `roles` may do `action`, given the user-defined roles.
/// A user-defined role with the exact name wins over a built-in role; otherwise built-in role
/// names match case-insensitively. Unknown role names grant nothing.
pub(crate) fn allows(
    roles: &[String],
    custom: &BTreeMap<String, Vec<String>>,
    action: Action,
) -> bool {
    let name = action.name();
    roles.iter().any(|role| match custom.get(role) {
        Some(actions) => actions.iter().any(|p| pattern_allows(p, &name)),
        None => builtin_role(role).is_some_and(|r| builtin_allows(r, action)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_and_custom_roles() {
        let none = BTreeMap::new();
        let r = |s: &str| vec![s.to_string()];
        assert!(allows(&r("Reader"), &none, Action::Read));
        assert!(!allows(&r("Reader"), &none, Action::Write));
        assert!(allows(&r("contributor"), &none, Action::Write));
        assert!(!allows(&r("Contributor"), &none, Action::UsersWrite));
        assert!(allows(&r("Administrator"), &none, Action::RolesWrite));
        assert!(!allows(&r("Nobody"), &none, Action::Read));

        let mut custom = BTreeMap::new();
        custom.insert(
            "auditor".to_string(),
            vec!["Microsoft.ConfidentialLedger/ledger/users/read".to_string()],
        );
        custom.insert(
            "ops".to_string(),
            vec!["Microsoft.ConfidentialLedger/ledger/*".to_string()],
        );
        assert!(allows(&r("auditor"), &custom, Action::UsersRead));
        assert!(!allows(&r("auditor"), &custom, Action::Read));
        assert!(allows(&r("ops"), &custom, Action::Execute));
        assert!(allows(
            &["Reader".into(), "auditor".into()],
            &custom,
            Action::Read
        ));
    }
}
