//! Users and their roles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::misfit;
use crate::Error;
use crate::raw::ledger::types;

/// A role a ledger user holds: a built-in one, or a user-defined role
/// ([`create_user_defined_role`](crate::ConfidentialLedgerClient::create_user_defined_role)).
///
/// Open: any name the ledger sends is accepted; built-in names (exactly as the ledger spells
/// them) map to their variants, everything else is [`Custom`](Self::Custom).
///
/// # Examples
///
/// ```
/// use confidential_ledger::models::LedgerRole;
///
/// assert_eq!(LedgerRole::from("Reader"), LedgerRole::Reader);
/// assert_eq!(LedgerRole::from("Auditor"), LedgerRole::Custom("Auditor".into()));
/// assert_eq!("Contributor".parse::<LedgerRole>().unwrap(), LedgerRole::Contributor);
/// assert_eq!(LedgerRole::Administrator.to_string(), "Administrator");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerRole {
    /// Reads, writes, and manages users and roles.
    Administrator,
    /// Reads and writes entries.
    Contributor,
    /// Reads entries.
    Reader,
    /// A user-defined role, or a built-in role this version does not know, by name.
    Custom(String),
}

impl LedgerRole {
    /// The role's name as the ledger spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Administrator => "Administrator",
            Self::Contributor => "Contributor",
            Self::Reader => "Reader",
            Self::Custom(name) => name,
        }
    }

    pub(crate) fn from_generated(role: &types::ConfidentialLedgerUserRoleName) -> Self {
        use types::ConfidentialLedgerUserRoleName as R;
        use types::ConfidentialLedgerUserRoleNameKnown as K;
        match role {
            R::Known(K::Administrator) => Self::Administrator,
            R::Known(K::Contributor) => Self::Contributor,
            R::Known(K::Reader) => Self::Reader,
            R::Other(name) => Self::from(name.as_str()),
        }
    }

    pub(crate) fn to_generated(&self) -> types::ConfidentialLedgerUserRoleName {
        use types::ConfidentialLedgerUserRoleName as R;
        use types::ConfidentialLedgerUserRoleNameKnown as K;
        match self {
            Self::Administrator => R::Known(K::Administrator),
            Self::Contributor => R::Known(K::Contributor),
            Self::Reader => R::Known(K::Reader),
            Self::Custom(name) => R::Other(name.clone()),
        }
    }
}

impl From<&str> for LedgerRole {
    fn from(name: &str) -> Self {
        match name {
            "Administrator" => Self::Administrator,
            "Contributor" => Self::Contributor,
            "Reader" => Self::Reader,
            other => Self::Custom(other.to_owned()),
        }
    }
}

impl From<String> for LedgerRole {
    fn from(name: String) -> Self {
        match name.as_str() {
            "Administrator" | "Contributor" | "Reader" => Self::from(name.as_str()),
            _ => Self::Custom(name),
        }
    }
}

impl FromStr for LedgerRole {
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(name))
    }
}

impl fmt::Display for LedgerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for LedgerRole {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LedgerRole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(deserializer)?))
    }
}

/// A user of the ledger and the roles it holds (`/app/ledgerUsers`).
///
/// The user id is an Entra ID object id, or, for a certificate user, the SHA-256
/// fingerprint of its certificate (`5F:23:…`, see
/// [`CertificateCredential::user_id`](crate::CertificateCredential::user_id)).
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::models::LedgerRole;
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let user = client
///     .create_or_update_ledger_user("0f6b1e29-0000-4000-8000-000000000000", &[LedgerRole::Reader], None)
///     .await?;
/// assert!(user.assigned_roles.contains(&LedgerRole::Reader));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LedgerUser {
    /// The user's id.
    pub user_id: String,
    /// Its roles.
    pub assigned_roles: Vec<LedgerRole>,
}

impl LedgerUser {
    /// From the generated type; `asked` is the id the call named, used when the ledger's
    /// answer leaves it out.
    pub(crate) fn from_generated(
        user: types::LedgerUserMultipleRoles,
        asked: Option<&str>,
    ) -> Result<Self, Error> {
        // Exhaustive: a field added upstream is a compile error here (see xtask/coverage.json).
        let types::LedgerUserMultipleRoles {
            assigned_roles: generated_roles,
            user_id,
        } = user;
        let assigned_roles = generated_roles
            .iter()
            .map(LedgerRole::from_generated)
            .collect();
        let user_id = match (user_id, asked) {
            (Some(id), _) => id,
            (None, Some(asked)) => asked.to_owned(),
            (None, None) => {
                return Err(misfit(
                    "a listed user has no userId",
                    &types::LedgerUserMultipleRoles {
                        assigned_roles: generated_roles,
                        user_id: None,
                    },
                ));
            }
        };
        Ok(Self {
            user_id,
            assigned_roles,
        })
    }
}

/// A user of the legacy single-role calls (`/app/users`), which ledgers serve only for
/// api-versions up to 2024-08-22-preview. Prefer [`LedgerUser`].
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let user = client.get_user("0f6b1e29-0000-4000-8000-000000000000", None).await?;
/// println!("{} is a {}", user.user_id, user.assigned_role);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LegacyUser {
    /// The user's id.
    pub user_id: String,
    /// Its role.
    pub assigned_role: LedgerRole,
}

impl LegacyUser {
    pub(crate) fn from_generated(
        user: types::LedgerUser,
        asked: Option<&str>,
    ) -> Result<Self, Error> {
        // Exhaustive: a field added upstream is a compile error here (see xtask/coverage.json).
        let types::LedgerUser {
            assigned_role: generated_role,
            user_id,
        } = user;
        let assigned_role = LedgerRole::from_generated(&generated_role);
        let user_id = match (user_id, asked) {
            (Some(id), _) => id,
            (None, Some(asked)) => asked.to_owned(),
            (None, None) => {
                return Err(misfit(
                    "a listed user has no userId",
                    &types::LedgerUser {
                        assigned_role: generated_role,
                        user_id: None,
                    },
                ));
            }
        };
        Ok(Self {
            user_id,
            assigned_role,
        })
    }
}
