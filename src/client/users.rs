//! Users: ledger users with several roles (`/app/ledgerUsers`), and the legacy single-role
//! calls (`/app/users`).

use futures::FutureExt;

use super::ConfidentialLedgerClient;
use super::paging::{raw_page, ready};
use crate::models::{LedgerRole, LedgerUser, LegacyUser};
use crate::options::method_options;
use crate::raw::ledger::types;
use crate::validate;
use crate::{Error, Pager};

method_options! {
    /// Options of [`get_ledger_user`](ConfidentialLedgerClient::get_ledger_user).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetLedgerUserOptions;
    ///
    /// let options = GetLedgerUserOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetLedgerUserOptions {}
}

method_options! {
    /// Options of [`create_or_update_ledger_user`](ConfidentialLedgerClient::create_or_update_ledger_user).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::CreateOrUpdateLedgerUserOptions;
    ///
    /// let options = CreateOrUpdateLedgerUserOptions::new();
    /// # let _ = options;
    /// ```
    pub struct CreateOrUpdateLedgerUserOptions {}
}

method_options! {
    /// Options of [`delete_ledger_user`](ConfidentialLedgerClient::delete_ledger_user).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::DeleteLedgerUserOptions;
    ///
    /// let options = DeleteLedgerUserOptions::new();
    /// # let _ = options;
    /// ```
    pub struct DeleteLedgerUserOptions {}
}

method_options! {
    /// Options of [`list_ledger_users`](ConfidentialLedgerClient::list_ledger_users).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ListLedgerUsersOptions;
    ///
    /// let options = ListLedgerUsersOptions::new();
    /// # let _ = options;
    /// ```
    pub struct ListLedgerUsersOptions {}
}

method_options! {
    /// Options of [`get_user`](ConfidentialLedgerClient::get_user).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetUserOptions;
    ///
    /// let options = GetUserOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetUserOptions {}
}

method_options! {
    /// Options of [`create_or_update_user`](ConfidentialLedgerClient::create_or_update_user).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::CreateOrUpdateUserOptions;
    ///
    /// let options = CreateOrUpdateUserOptions::new();
    /// # let _ = options;
    /// ```
    pub struct CreateOrUpdateUserOptions {}
}

method_options! {
    /// Options of [`delete_user`](ConfidentialLedgerClient::delete_user).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::DeleteUserOptions;
    ///
    /// let options = DeleteUserOptions::new();
    /// # let _ = options;
    /// ```
    pub struct DeleteUserOptions {}
}

method_options! {
    /// Options of [`list_users`](ConfidentialLedgerClient::list_users).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ListUsersOptions;
    ///
    /// let options = ListUsersOptions::new();
    /// # let _ = options;
    /// ```
    pub struct ListUsersOptions {}
}

impl ConfidentialLedgerClient {
    /// A ledger user and its roles.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed user id (nothing is
    /// sent); [`NotFound`](crate::ErrorKind::NotFound) when there is no such user.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let user = client.get_ledger_user("0f6b1e29-0000-4000-8000-000000000000", None).await?;
    /// println!("{:?}", user.assigned_roles);
    /// # Ok(()) }
    /// ```
    pub async fn get_ledger_user(
        &self,
        user_id: &str,
        options: Option<GetLedgerUserOptions>,
    ) -> Result<LedgerUser, Error> {
        let options = options.unwrap_or_default();
        Self::traced("get_ledger_user", async {
            validate::user_id(user_id)?;
            let api = self.api_version();
            let response = self
                .run(&options.call, |raw| async move {
                    raw.get_ledger_user(user_id, api).await
                })
                .await?;
            LedgerUser::from_generated(response.into_inner(), Some(user_id))
        })
        .await
    }

    /// Adds a user with `roles`, or updates the roles of an existing one (an `Administrator`
    /// call). The user id is an Entra object id, or a certificate user's fingerprint
    /// ([`CertificateCredential::user_id`](crate::CertificateCredential::user_id)).
    ///
    /// What happens to an existing user's roles depends on the ledger and the api-version:
    /// recordings of real ledgers at `2024-08-22-preview` show the given roles **added** to
    /// the user's (`Contributor` updated with `Reader` holds both); at `2026-02-23` (this
    /// client's default) the spec's merge patch replaces them, and no recording exists yet.
    /// The answer lists the roles the user holds afterwards: rely on it, not on either rule.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed user id or no roles
    /// (nothing is sent); [`Forbidden`](crate::ErrorKind::Forbidden) for a caller who may not
    /// manage users.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::models::LedgerRole;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client
    ///     .create_or_update_ledger_user(
    ///         "0f6b1e29-0000-4000-8000-000000000000",
    ///         &[LedgerRole::Contributor, LedgerRole::from("Auditor")],
    ///         None,
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_or_update_ledger_user(
        &self,
        user_id: &str,
        roles: &[LedgerRole],
        options: Option<CreateOrUpdateLedgerUserOptions>,
    ) -> Result<LedgerUser, Error> {
        let options = options.unwrap_or_default();
        Self::traced("create_or_update_ledger_user", async {
            validate::user_id(user_id)?;
            if roles.is_empty() {
                return Err(Error::invalid_input(
                    "a ledger user needs at least one role; delete the user to remove all",
                ));
            }
            for role in roles {
                validate::name("role name", role.as_str())?;
            }
            let body = types::LedgerUserMultipleRoles {
                assigned_roles: roles.iter().map(LedgerRole::to_generated).collect(),
                user_id: None,
            };
            let (api, body) = (self.api_version(), &body);
            let response = self
                .run(&options.call, |raw| async move {
                    raw.create_or_update_ledger_user(user_id, api, body).await
                })
                .await?;
            LedgerUser::from_generated(response.into_inner(), Some(user_id))
        })
        .await
    }

    /// Removes a user from the ledger (an `Administrator` call).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed user id (nothing is
    /// sent); [`NotFound`](crate::ErrorKind::NotFound) when there is no such user (real
    /// ledgers at api-versions before `2026-02-23` answer success instead, as recorded).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client.delete_ledger_user("0f6b1e29-0000-4000-8000-000000000000", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_ledger_user(
        &self,
        user_id: &str,
        options: Option<DeleteLedgerUserOptions>,
    ) -> Result<(), Error> {
        let options = options.unwrap_or_default();
        Self::traced("delete_ledger_user", async {
            validate::user_id(user_id)?;
            let api = self.api_version();
            self.run(&options.call, |raw| async move {
                raw.delete_ledger_user(user_id, api).await
            })
            .await?;
            Ok(())
        })
        .await
    }

    /// The ledger's users: a lazy [`Pager`].
    ///
    /// # Errors
    ///
    /// The stream yields the errors of the requests.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let mut users = client.list_ledger_users(None);
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{}: {:?}", user.user_id, user.assigned_roles);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_ledger_users(
        &self,
        options: Option<ListLedgerUsersOptions>,
    ) -> Pager<LedgerUser, Error> {
        let options = options.unwrap_or_default();
        self.pager(
            "list_ledger_users",
            "ledgerUsers",
            options.call,
            Box::new(|client, call| {
                async move {
                    let api = client.api_version();
                    let response = client
                        .run(&call, |raw| async move { raw.list_ledger_users(api).await })
                        .await?;
                    raw_page(response, |page: types::PagedLedgerUsers| {
                        ready(page.ledger_users, page.next_link)
                    })
                }
                .boxed()
            }),
            |user| LedgerUser::from_generated(user, None),
        )
    }

    /// A user, through the legacy single-role calls. Ledgers serve these only for older
    /// api-versions (`2022-05-13`; recorded real ledgers redirected them already at
    /// `2024-08-22-preview`); with later ones (the default) the call fails
    /// with [`ApiVersionRedirect`](crate::ErrorKind::ApiVersionRedirect): use
    /// [`get_ledger_user`](Self::get_ledger_user).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed user id (nothing is
    /// sent); [`ApiVersionRedirect`](crate::ErrorKind::ApiVersionRedirect);
    /// [`NotFound`](crate::ErrorKind::NotFound).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let user = client.get_user("0f6b1e29-0000-4000-8000-000000000000", None).await?;
    /// println!("{}", user.assigned_role);
    /// # Ok(()) }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "use get_ledger_user: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    pub async fn get_user(
        &self,
        user_id: &str,
        options: Option<GetUserOptions>,
    ) -> Result<LegacyUser, Error> {
        let options = options.unwrap_or_default();
        Self::traced("get_user", async {
            validate::user_id(user_id)?;
            let api = self.api_version();
            let response = self
                .run(&options.call, |raw| async move {
                    raw.get_user(user_id, api).await
                })
                .await?;
            LegacyUser::from_generated(response.into_inner(), Some(user_id))
        })
        .await
    }

    /// Adds a user with one role, or replaces its role, through the legacy calls; see
    /// [`get_user`](Self::get_user) about api-versions. Prefer
    /// [`create_or_update_ledger_user`](Self::create_or_update_ledger_user).
    ///
    /// # Errors
    ///
    /// As [`get_user`](Self::get_user), and [`Forbidden`](crate::ErrorKind::Forbidden) for a
    /// caller who may not manage users.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::models::LedgerRole;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client.create_or_update_user("0f6b1e29-0000-4000-8000-000000000000", LedgerRole::Reader, None).await?;
    /// # Ok(()) }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "use create_or_update_ledger_user: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    pub async fn create_or_update_user(
        &self,
        user_id: &str,
        role: LedgerRole,
        options: Option<CreateOrUpdateUserOptions>,
    ) -> Result<LegacyUser, Error> {
        let options = options.unwrap_or_default();
        Self::traced("create_or_update_user", async {
            validate::user_id(user_id)?;
            validate::name("role name", role.as_str())?;
            let body = types::LedgerUser {
                assigned_role: role.to_generated(),
                user_id: None,
            };
            let (api, body) = (self.api_version(), &body);
            let response = self
                .run(&options.call, |raw| async move {
                    raw.create_or_update_user(user_id, api, body).await
                })
                .await?;
            LegacyUser::from_generated(response.into_inner(), Some(user_id))
        })
        .await
    }

    /// Removes a user through the legacy calls; see [`get_user`](Self::get_user) about
    /// api-versions. Prefer [`delete_ledger_user`](Self::delete_ledger_user).
    ///
    /// # Errors
    ///
    /// As [`get_user`](Self::get_user).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client.delete_user("0f6b1e29-0000-4000-8000-000000000000", None).await?;
    /// # Ok(()) }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "use delete_ledger_user: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    pub async fn delete_user(
        &self,
        user_id: &str,
        options: Option<DeleteUserOptions>,
    ) -> Result<(), Error> {
        let options = options.unwrap_or_default();
        Self::traced("delete_user", async {
            validate::user_id(user_id)?;
            let api = self.api_version();
            self.run(&options.call, |raw| async move {
                raw.delete_user(user_id, api).await
            })
            .await?;
            Ok(())
        })
        .await
    }

    /// The ledger's users through the legacy calls: a lazy [`Pager`]; see
    /// [`get_user`](Self::get_user) about api-versions. Prefer
    /// [`list_ledger_users`](Self::list_ledger_users).
    ///
    /// # Errors
    ///
    /// The stream yields the errors of the requests, such as
    /// [`ApiVersionRedirect`](crate::ErrorKind::ApiVersionRedirect).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let users: Vec<_> = client.list_users(None).try_collect().await?;
    /// # Ok(()) }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "use list_ledger_users: the legacy /app/users calls fail with ApiVersionRedirect on the default api-version"
    )]
    pub fn list_users(&self, options: Option<ListUsersOptions>) -> Pager<LegacyUser, Error> {
        let options = options.unwrap_or_default();
        self.pager(
            "list_users",
            "ledgerUsers",
            options.call,
            Box::new(|client, call| {
                async move {
                    let api = client.api_version();
                    let response = client
                        .run(&call, |raw| async move { raw.list_users(api).await })
                        .await?;
                    raw_page(response, |page: types::PagedUsers| {
                        ready(page.ledger_users, page.next_link)
                    })
                }
                .boxed()
            }),
            |user| LegacyUser::from_generated(user, None),
        )
    }
}
