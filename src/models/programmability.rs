//! Programmability: user-defined endpoints, functions and the JavaScript runtime options.
//!
//! The bundle, module, runtime option and function types are the generated ones
//! (re-exported); execution results are written here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::TransactionId;
use crate::raw::ledger::types;

pub use types::{
    Bundle, EndpointProperties, ForwardingRequired, ForwardingRequiredKnown,
    InterpreterReusePolicy, JsRuntimeOptions, Metadata, MethodToEndpointProperties, Mode,
    ModeKnown, ModuleDef, RedirectionStrategy, RedirectionStrategyKnown, UserDefinedFunction,
    UserDefinedFunctionExecutionProperties, UserDefinedFunctionHook,
};

/// What [`create_user_defined_function`](crate::ConfidentialLedgerClient::create_user_defined_function)
/// did.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let written = client
///     .create_user_defined_function("hello", "export function main() { return 'hi'; }", None)
///     .await?;
/// println!("{} at {}", if written.created { "created" } else { "replaced" }, written.transaction_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UserDefinedFunctionWrite {
    /// The function as the ledger stored it.
    pub function: UserDefinedFunction,
    /// True when the function did not exist before (`201 Created`), false when it was
    /// replaced (`200 OK`).
    pub created: bool,
    /// The transaction that stored it.
    pub transaction_id: TransactionId,
}

/// Whether a user-defined function ran to completion.
///
/// # Examples
///
/// ```
/// use confidential_ledger::models::ExecutionStatus;
///
/// assert_eq!(ExecutionStatus::from("Failed"), ExecutionStatus::Failed);
/// assert_eq!(ExecutionStatus::Succeeded.to_string(), "Succeeded");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ExecutionStatus {
    /// It returned a value.
    Succeeded,
    /// It threw; see [`FunctionExecution::error_message`].
    Failed,
    /// A status this version does not know, as the ledger wrote it.
    Other(String),
}

impl ExecutionStatus {
    /// The status as the ledger writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Other(other) => other,
        }
    }
}

impl From<&str> for ExecutionStatus {
    fn from(status: &str) -> Self {
        match status {
            "Succeeded" => Self::Succeeded,
            "Failed" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl From<String> for ExecutionStatus {
    fn from(status: String) -> Self {
        Self::from(status.as_str())
    }
}

impl From<ExecutionStatus> for String {
    fn from(status: ExecutionStatus) -> Self {
        status.as_str().to_owned()
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of running a user-defined function.
///
/// # Examples
///
/// ```no_run
/// use confidential_ledger::models::ExecutionStatus;
/// # async fn run(client: confidential_ledger::ConfidentialLedgerClient) -> Result<(), confidential_ledger::Error> {
/// let run = client.execute_user_defined_function("hello", None).await?;
/// match run.status {
///     ExecutionStatus::Succeeded => println!("returned {:?}", run.return_value),
///     _ => println!("failed: {:?}", run.error_message),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FunctionExecution {
    /// Whether it succeeded.
    pub status: ExecutionStatus,
    /// What it returned, when it succeeded.
    pub return_value: Option<String>,
    /// Why it failed, when it failed.
    pub error_message: Option<String>,
}

impl FunctionExecution {
    pub(crate) fn from_generated(r: types::UserDefinedFunctionExecutionResponse) -> Self {
        use types::UserDefinedFunctionExecutionStatus as S;
        use types::UserDefinedFunctionExecutionStatusKnown as K;
        // Exhaustive: a field added upstream is a compile error here (see xtask/coverage.json).
        let types::UserDefinedFunctionExecutionResponse {
            error,
            result,
            status,
        } = r;
        let status = match status {
            S::Known(K::Succeeded) => ExecutionStatus::Succeeded,
            S::Known(K::Failed) => ExecutionStatus::Failed,
            S::Other(other) => ExecutionStatus::from(other),
        };
        Self {
            status,
            return_value: result.and_then(
                |types::UserDefinedFunctionExecutionResult { return_value }| return_value,
            ),
            error_message: error
                .and_then(|types::UserDefinedFunctionExecutionError { message }| message),
        }
    }
}
