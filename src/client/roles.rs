//! User-defined roles (`/app/roles`).

use super::ConfidentialLedgerClient;
use crate::Error;
use crate::models::{UserDefinedRole, misfit};
use crate::options::method_options;
use crate::raw::ledger::types;
use crate::validate;

method_options! {
    /// Options of [`create_user_defined_role`](ConfidentialLedgerClient::create_user_defined_role).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::CreateUserDefinedRoleOptions;
    ///
    /// let options = CreateUserDefinedRoleOptions::new();
    /// # let _ = options;
    /// ```
    pub struct CreateUserDefinedRoleOptions {}
}

method_options! {
    /// Options of [`get_user_defined_role`](ConfidentialLedgerClient::get_user_defined_role).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetUserDefinedRoleOptions;
    ///
    /// let options = GetUserDefinedRoleOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetUserDefinedRoleOptions {}
}

method_options! {
    /// Options of [`update_user_defined_role`](ConfidentialLedgerClient::update_user_defined_role).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::UpdateUserDefinedRoleOptions;
    ///
    /// let options = UpdateUserDefinedRoleOptions::new();
    /// # let _ = options;
    /// ```
    pub struct UpdateUserDefinedRoleOptions {}
}

method_options! {
    /// Options of [`delete_user_defined_role`](ConfidentialLedgerClient::delete_user_defined_role).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::DeleteUserDefinedRoleOptions;
    ///
    /// let options = DeleteUserDefinedRoleOptions::new();
    /// # let _ = options;
    /// ```
    pub struct DeleteUserDefinedRoleOptions {}
}

/// The body of a role write, after checking each role.
fn roles_body(roles: &[UserDefinedRole]) -> Result<types::UserDefinedRoles, Error> {
    if roles.is_empty() {
        return Err(Error::invalid_input("no role given"));
    }
    for role in roles {
        validate::name("role name", &role.role_name)?;
        for action in &role.role_actions {
            validate::name("role action", action)?;
        }
    }
    Ok(types::UserDefinedRoles {
        roles: roles.iter().map(UserDefinedRole::to_generated).collect(),
    })
}

fn roles_of(roles: Vec<types::Role>) -> Result<Vec<UserDefinedRole>, Error> {
    roles
        .into_iter()
        .map(UserDefinedRole::from_generated)
        .collect()
}

impl ConfidentialLedgerClient {
    /// Creates user-defined roles, or replaces the actions of existing ones (an
    /// `Administrator` call). Assign them to users with
    /// [`LedgerRole::Custom`](crate::models::LedgerRole::Custom).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for no roles or a malformed name or
    /// action (nothing is sent); the ledger refuses built-in role names.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::models::UserDefinedRole;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client
    ///     .create_user_defined_role(&[UserDefinedRole::new("Auditor", ["/content/read"])], None)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_user_defined_role(
        &self,
        roles: &[UserDefinedRole],
        options: Option<CreateUserDefinedRoleOptions>,
    ) -> Result<Vec<UserDefinedRole>, Error> {
        let options = options.unwrap_or_default();
        Self::traced("create_user_defined_role", async {
            let body = roles_body(roles)?;
            let (api, body) = (self.api_version(), &body);
            let response = self
                .run(&options.call, |raw| async move {
                    raw.create_user_defined_role(api, body).await
                })
                .await?;
            roles_of(response.into_inner().roles)
        })
        .await
    }

    /// A user-defined role.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed name (nothing is
    /// sent); [`NotFound`](crate::ErrorKind::NotFound) when there is no such role.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let role = client.get_user_defined_role("Auditor", None).await?;
    /// println!("{:?}", role.role_actions);
    /// # Ok(()) }
    /// ```
    pub async fn get_user_defined_role(
        &self,
        role_name: &str,
        options: Option<GetUserDefinedRoleOptions>,
    ) -> Result<UserDefinedRole, Error> {
        let options = options.unwrap_or_default();
        Self::traced("get_user_defined_role", async {
            validate::name("role name", role_name)?;
            let api = self.api_version();
            let response = self
                .run(&options.call, |raw| async move {
                    raw.get_user_defined_role(api, role_name).await
                })
                .await?;
            let body = response.into_inner();
            let mut roles = roles_of(body.role.clone())?;
            match roles.iter().position(|role| role.role_name == role_name) {
                Some(i) => Ok(roles.swap_remove(i)),
                None if roles.len() == 1 => Ok(roles.remove(0)),
                None => Err(misfit(
                    format!("the answer does not hold the role {role_name}"),
                    &body,
                )),
            }
        })
        .await
    }

    /// Changes the actions of existing user-defined roles (a merge patch; an `Administrator`
    /// call).
    ///
    /// # Errors
    ///
    /// As [`create_user_defined_role`](Self::create_user_defined_role), and
    /// [`NotFound`](crate::ErrorKind::NotFound) for a role that does not exist.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::models::UserDefinedRole;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client
    ///     .update_user_defined_role(&[UserDefinedRole::new("Auditor", ["/content/read", "/receipts/read"])], None)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_user_defined_role(
        &self,
        roles: &[UserDefinedRole],
        options: Option<UpdateUserDefinedRoleOptions>,
    ) -> Result<Vec<UserDefinedRole>, Error> {
        let options = options.unwrap_or_default();
        Self::traced("update_user_defined_role", async {
            let body = roles_body(roles)?;
            let (api, body) = (self.api_version(), &body);
            let response = self
                .run(&options.call, |raw| async move {
                    raw.update_user_defined_role(api, body).await
                })
                .await?;
            roles_of(response.into_inner().roles)
        })
        .await
    }

    /// Deletes a user-defined role (an `Administrator` call).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed name (nothing is
    /// sent); [`NotFound`](crate::ErrorKind::NotFound) when there is no such role.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client.delete_user_defined_role("Auditor", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_user_defined_role(
        &self,
        role_name: &str,
        options: Option<DeleteUserDefinedRoleOptions>,
    ) -> Result<(), Error> {
        let options = options.unwrap_or_default();
        Self::traced("delete_user_defined_role", async {
            validate::name("role name", role_name)?;
            let api = self.api_version();
            self.run(&options.call, |raw| async move {
                raw.delete_user_defined_role(api, role_name).await
            })
            .await?;
            Ok(())
        })
        .await
    }
}
