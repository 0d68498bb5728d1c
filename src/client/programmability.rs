//! Programmability: the user-defined endpoints bundle and its modules, the JavaScript runtime
//! options, and user-defined functions.

use futures::FutureExt;

use super::ConfidentialLedgerClient;
use super::entries::written_transaction_id;
use super::paging::{raw_page, ready};
use crate::models::{
    Bundle, FunctionExecution, JsRuntimeOptions, ModuleDef, UserDefinedFunction,
    UserDefinedFunctionWrite,
};
use crate::options::method_options;
use crate::raw::ledger::types;
use crate::validate;
use crate::{Error, Pager};

method_options! {
    /// Options of [`get_user_defined_endpoint`](ConfidentialLedgerClient::get_user_defined_endpoint).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetUserDefinedEndpointOptions;
    ///
    /// let options = GetUserDefinedEndpointOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetUserDefinedEndpointOptions {}
}

method_options! {
    /// Options of [`create_user_defined_endpoint`](ConfidentialLedgerClient::create_user_defined_endpoint).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::CreateUserDefinedEndpointOptions;
    ///
    /// let options = CreateUserDefinedEndpointOptions::new();
    /// # let _ = options;
    /// ```
    pub struct CreateUserDefinedEndpointOptions {}
}

method_options! {
    /// Options of [`get_user_defined_endpoints_module`](ConfidentialLedgerClient::get_user_defined_endpoints_module).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetUserDefinedEndpointsModuleOptions;
    ///
    /// let options = GetUserDefinedEndpointsModuleOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetUserDefinedEndpointsModuleOptions {}
}

method_options! {
    /// Options of [`get_runtime_options`](ConfidentialLedgerClient::get_runtime_options).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetRuntimeOptionsOptions;
    ///
    /// let options = GetRuntimeOptionsOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetRuntimeOptionsOptions {}
}

method_options! {
    /// Options of [`update_runtime_options`](ConfidentialLedgerClient::update_runtime_options).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::UpdateRuntimeOptionsOptions;
    ///
    /// let options = UpdateRuntimeOptionsOptions::new();
    /// # let _ = options;
    /// ```
    pub struct UpdateRuntimeOptionsOptions {}
}

method_options! {
    /// Options of [`list_user_defined_functions`](ConfidentialLedgerClient::list_user_defined_functions).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ListUserDefinedFunctionsOptions;
    ///
    /// let options = ListUserDefinedFunctionsOptions::new();
    /// # let _ = options;
    /// ```
    pub struct ListUserDefinedFunctionsOptions {}
}

method_options! {
    /// Options of [`get_user_defined_function`](ConfidentialLedgerClient::get_user_defined_function).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::GetUserDefinedFunctionOptions;
    ///
    /// let options = GetUserDefinedFunctionOptions::new();
    /// # let _ = options;
    /// ```
    pub struct GetUserDefinedFunctionOptions {}
}

method_options! {
    /// Options of [`create_user_defined_function`](ConfidentialLedgerClient::create_user_defined_function).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::CreateUserDefinedFunctionOptions;
    ///
    /// let options = CreateUserDefinedFunctionOptions::new();
    /// # let _ = options;
    /// ```
    pub struct CreateUserDefinedFunctionOptions {}
}

method_options! {
    /// Options of [`delete_user_defined_function`](ConfidentialLedgerClient::delete_user_defined_function).
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::DeleteUserDefinedFunctionOptions;
    ///
    /// let options = DeleteUserDefinedFunctionOptions::new();
    /// # let _ = options;
    /// ```
    pub struct DeleteUserDefinedFunctionOptions {}
}

method_options! {
    /// Options of [`execute_user_defined_function`](ConfidentialLedgerClient::execute_user_defined_function):
    /// the arguments, which exported function to run, and runtime limits.
    ///
    /// # Examples
    ///
    /// ```
    /// use confidential_ledger::client::ExecuteUserDefinedFunctionOptions;
    ///
    /// let options = ExecuteUserDefinedFunctionOptions::new()
    ///     .arguments(["alice", "42"])
    ///     .exported_function_name("main");
    /// assert_eq!(options.arguments, ["alice", "42"]);
    /// ```
    pub struct ExecuteUserDefinedFunctionOptions {
        /// The arguments, as strings.
        pub arguments: Vec<String>,
        /// The exported function to run (default: the ledger's, `main`).
        pub exported_function_name: Option<String>,
        /// Runtime limits for this run.
        pub runtime_options: Option<JsRuntimeOptions>,
    }
}

impl ExecuteUserDefinedFunctionOptions {
    /// Passes `arguments`.
    #[must_use]
    pub fn arguments<I, S>(mut self, arguments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.arguments = arguments.into_iter().map(Into::into).collect();
        self
    }

    /// Runs the exported function `name`.
    #[must_use]
    pub fn exported_function_name(mut self, name: impl Into<String>) -> Self {
        self.exported_function_name = Some(name.into());
        self
    }

    /// Runs with these runtime limits.
    #[must_use]
    pub fn runtime_options(mut self, runtime_options: JsRuntimeOptions) -> Self {
        self.runtime_options = Some(runtime_options);
        self
    }
}

impl ConfidentialLedgerClient {
    /// The user-defined endpoints bundle (its endpoints' metadata and JavaScript modules).
    ///
    /// # Errors
    ///
    /// The transport and service errors of the call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let bundle = client.get_user_defined_endpoint(None).await?;
    /// for module in &bundle.modules {
    ///     println!("{}", module.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_user_defined_endpoint(
        &self,
        options: Option<GetUserDefinedEndpointOptions>,
    ) -> Result<Bundle, Error> {
        let options = options.unwrap_or_default();
        let api = self.api_version();
        let response = Self::traced(
            "get_user_defined_endpoint",
            self.run(&options.call, |raw| async move {
                raw.get_user_defined_endpoint(api).await
            }),
        )
        .await?;
        Ok(response.into_inner())
    }

    /// Installs a user-defined endpoints bundle, replacing the current one (an
    /// `Administrator` call).
    ///
    /// # Errors
    ///
    /// The transport and service errors of the call (the ledger checks the bundle).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::models::{Bundle, Metadata, ModuleDef};
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let bundle = Bundle {
    ///     metadata: Metadata { endpoints: Default::default() },
    ///     modules: vec![ModuleDef { name: "lib.js".into(), module: "export const x = 1;".into() }],
    /// };
    /// client.create_user_defined_endpoint(&bundle, None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_user_defined_endpoint(
        &self,
        bundle: &Bundle,
        options: Option<CreateUserDefinedEndpointOptions>,
    ) -> Result<(), Error> {
        let options = options.unwrap_or_default();
        let api = self.api_version();
        Self::traced(
            "create_user_defined_endpoint",
            self.run(&options.call, |raw| async move {
                raw.create_user_defined_endpoint(api, bundle).await
            }),
        )
        .await?;
        Ok(())
    }

    /// One JavaScript module of the user-defined endpoints bundle.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed name (nothing is
    /// sent); [`NotFound`](crate::ErrorKind::NotFound) when there is no such module.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let module = client.get_user_defined_endpoints_module("lib.js", None).await?;
    /// println!("{}", module.module);
    /// # Ok(()) }
    /// ```
    pub async fn get_user_defined_endpoints_module(
        &self,
        module_name: &str,
        options: Option<GetUserDefinedEndpointsModuleOptions>,
    ) -> Result<ModuleDef, Error> {
        let options = options.unwrap_or_default();
        Self::traced("get_user_defined_endpoints_module", async {
            validate::name("module name", module_name)?;
            let api = self.api_version();
            let response = self
                .run(&options.call, |raw| async move {
                    raw.get_user_defined_endpoints_module(api, module_name)
                        .await
                })
                .await?;
            Ok(response.into_inner())
        })
        .await
    }

    /// The JavaScript runtime options of user-defined endpoints and functions.
    ///
    /// # Errors
    ///
    /// The transport and service errors of the call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let runtime = client.get_runtime_options(None).await?;
    /// println!("heap limit {:?}", runtime.max_heap_bytes);
    /// # Ok(()) }
    /// ```
    pub async fn get_runtime_options(
        &self,
        options: Option<GetRuntimeOptionsOptions>,
    ) -> Result<JsRuntimeOptions, Error> {
        let options = options.unwrap_or_default();
        let api = self.api_version();
        let response = Self::traced(
            "get_runtime_options",
            self.run(&options.call, |raw| async move {
                raw.get_runtime_options(api).await
            }),
        )
        .await?;
        Ok(response.into_inner())
    }

    /// Changes the JavaScript runtime options: the fields set in `runtime_options` are
    /// changed, the others kept (a merge patch; an `Administrator` call). Returns the options
    /// now in force.
    ///
    /// # Errors
    ///
    /// The transport and service errors of the call (the ledger checks the values).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::models::JsRuntimeOptions;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let change = JsRuntimeOptions { max_execution_time_ms: Some(2_000), ..Default::default() };
    /// let now = client.update_runtime_options(&change, None).await?;
    /// assert_eq!(now.max_execution_time_ms, Some(2_000));
    /// # Ok(()) }
    /// ```
    pub async fn update_runtime_options(
        &self,
        runtime_options: &JsRuntimeOptions,
        options: Option<UpdateRuntimeOptionsOptions>,
    ) -> Result<JsRuntimeOptions, Error> {
        let options = options.unwrap_or_default();
        let api = self.api_version();
        let response = Self::traced(
            "update_runtime_options",
            self.run(&options.call, |raw| async move {
                raw.update_runtime_options(api, runtime_options).await
            }),
        )
        .await?;
        Ok(response.into_inner())
    }

    /// The ledger's user-defined functions: a lazy [`Pager`].
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
    /// let functions: Vec<_> = client.list_user_defined_functions(None).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_user_defined_functions(
        &self,
        options: Option<ListUserDefinedFunctionsOptions>,
    ) -> Pager<UserDefinedFunction, Error> {
        let options = options.unwrap_or_default();
        self.pager(
            "list_user_defined_functions",
            "functions",
            options.call,
            Box::new(|client, call| {
                async move {
                    let api = client.api_version();
                    let response = client
                        .run(&call, |raw| async move {
                            raw.list_user_defined_functions(api).await
                        })
                        .await?;
                    raw_page(response, |page: types::PagedUserDefinedFunctions| {
                        ready(page.functions, page.next_link)
                    })
                }
                .boxed()
            }),
            Ok,
        )
    }

    /// A user-defined function.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed id (nothing is sent);
    /// [`NotFound`](crate::ErrorKind::NotFound) when there is no such function.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let function = client.get_user_defined_function("hello", None).await?;
    /// println!("{}", function.code);
    /// # Ok(()) }
    /// ```
    pub async fn get_user_defined_function(
        &self,
        function_id: &str,
        options: Option<GetUserDefinedFunctionOptions>,
    ) -> Result<UserDefinedFunction, Error> {
        let options = options.unwrap_or_default();
        Self::traced("get_user_defined_function", async {
            validate::function_id(function_id)?;
            let api = self.api_version();
            let response = self
                .run(&options.call, |raw| async move {
                    raw.get_user_defined_function(function_id, api).await
                })
                .await?;
            Ok(response.into_inner())
        })
        .await
    }

    /// Creates or replaces a user-defined function (JavaScript exporting the function to run,
    /// `main` by default).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed id or empty code
    /// (nothing is sent); [`Decode`](crate::ErrorKind::Decode) when the ledger stored it but
    /// did not say its transaction id.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let written = client
    ///     .create_user_defined_function("hello", "export function main() { return 'hi'; }", None)
    ///     .await?;
    /// assert!(written.created);
    /// # Ok(()) }
    /// ```
    pub async fn create_user_defined_function(
        &self,
        function_id: &str,
        code: impl Into<String>,
        options: Option<CreateUserDefinedFunctionOptions>,
    ) -> Result<UserDefinedFunctionWrite, Error> {
        let options = options.unwrap_or_default();
        let code = code.into();
        Self::traced("create_user_defined_function", async {
            validate::function_id(function_id)?;
            if code.trim().is_empty() {
                return Err(Error::invalid_input("the function's code is empty"));
            }
            let body = UserDefinedFunction { code, id: None };
            let (api, body) = (self.api_version(), &body);
            let response = self
                .run(&options.call, |raw| async move {
                    raw.create_user_defined_function(function_id, api, body)
                        .await
                })
                .await?;
            let transaction_id =
                written_transaction_id(response.headers(), "storing the function")?;
            tracing::Span::current()
                .record("transaction_id", tracing::field::display(transaction_id));
            let created = response.status() == reqwest::StatusCode::CREATED;
            let mut function = response.into_inner();
            if function.id.is_none() {
                function.id = Some(function_id.to_owned());
            }
            Ok(UserDefinedFunctionWrite {
                function,
                created,
                transaction_id,
            })
        })
        .await
    }

    /// Deletes a user-defined function.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed id (nothing is sent);
    /// [`NotFound`](crate::ErrorKind::NotFound) when there is no such function.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// client.delete_user_defined_function("hello", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_user_defined_function(
        &self,
        function_id: &str,
        options: Option<DeleteUserDefinedFunctionOptions>,
    ) -> Result<(), Error> {
        let options = options.unwrap_or_default();
        Self::traced("delete_user_defined_function", async {
            validate::function_id(function_id)?;
            let api = self.api_version();
            self.run(&options.call, |raw| async move {
                raw.delete_user_defined_function(function_id, api).await
            })
            .await?;
            Ok(())
        })
        .await
    }

    /// Runs a user-defined function. Like a write, a run is never sent twice: after a
    /// failure that leaves it unknown whether it ran, the error is
    /// [`OutcomeUnknown`](crate::ErrorKind::OutcomeUnknown).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) for a malformed id (nothing is sent);
    /// [`NotFound`](crate::ErrorKind::NotFound) when there is no such function; a function
    /// that throws is not an error but a [`FunctionExecution`] with status `Failed`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use confidential_ledger::client::ExecuteUserDefinedFunctionOptions;
    /// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
    /// let options = ExecuteUserDefinedFunctionOptions::new().arguments(["alice"]);
    /// let run = client.execute_user_defined_function("hello", Some(options)).await?;
    /// println!("{:?}", run.return_value);
    /// # Ok(()) }
    /// ```
    pub async fn execute_user_defined_function(
        &self,
        function_id: &str,
        options: Option<ExecuteUserDefinedFunctionOptions>,
    ) -> Result<FunctionExecution, Error> {
        let options = options.unwrap_or_default();
        Self::traced("execute_user_defined_function", async {
            validate::function_id(function_id)?;
            let body = types::UserDefinedFunctionExecutionProperties {
                arguments: options.arguments.clone(),
                exported_function_name: options.exported_function_name.clone(),
                runtime_options: options.runtime_options.clone(),
            };
            let (api, body) = (self.api_version(), &body);
            let response = self
                .run(&options.call, |raw| async move {
                    raw.execute_user_defined_function(function_id, api, body)
                        .await
                })
                .await?;
            Ok(FunctionExecution::from_generated(response.into_inner()))
        })
        .await
    }
}
