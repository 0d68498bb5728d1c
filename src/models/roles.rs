//! User-defined roles.

use serde::{Deserialize, Serialize};

use super::misfit;
use crate::Error;
use crate::raw::ledger::types;

/// A user-defined role: a name and the actions it allows (`/app/roles`).
///
/// # Examples
///
/// ```
/// use confidential_ledger::models::UserDefinedRole;
///
/// let auditor = UserDefinedRole::new("Auditor", ["/content/read"]);
/// assert_eq!(auditor.role_name, "Auditor");
/// assert_eq!(auditor.role_actions, ["/content/read"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserDefinedRole {
    /// The role's name (what [`LedgerRole::Custom`](super::LedgerRole::Custom) holds).
    #[serde(alias = "role_name")]
    pub role_name: String,
    /// The actions it allows, such as `/content/read`.
    #[serde(default, alias = "role_actions")]
    pub role_actions: Vec<String>,
}

impl UserDefinedRole {
    /// A role named `role_name` allowing `role_actions`.
    pub fn new<I, S>(role_name: impl Into<String>, role_actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            role_name: role_name.into(),
            role_actions: role_actions.into_iter().map(Into::into).collect(),
        }
    }

    pub(crate) fn from_generated(role: types::Role) -> Result<Self, Error> {
        // Exhaustive: a field added upstream is a compile error here (see xtask/coverage.json).
        let types::Role {
            role_actions,
            role_name,
        } = role;
        match role_name {
            Some(role_name) => Ok(Self {
                role_name,
                role_actions,
            }),
            None => Err(misfit(
                "a role has no roleName",
                &types::Role {
                    role_actions,
                    role_name: None,
                },
            )),
        }
    }

    pub(crate) fn to_generated(&self) -> types::Role {
        types::Role {
            role_actions: self.role_actions.clone(),
            role_name: Some(self.role_name.clone()),
        }
    }
}
