//! What the client's methods take and return.
//!
//! The types used on the common paths are written here, with typed transaction ids, open
//! enums for values the service may extend (roles, states) and names without the spec's
//! prefixes: [`LedgerEntry`], [`LedgerWriteResult`], [`TransactionStatus`],
//! [`TransactionReceipt`], [`LedgerUser`], [`LedgerRole`], [`UserDefinedRole`],
//! [`Constitution`], [`ConsortiumMember`], [`EnclaveQuotes`], [`Collection`],
//! [`FunctionExecution`]. They are converted from the generated types of
//! [`generated::ledger::types`](crate::raw::ledger::types), and a response that does not
//! fit them (a missing transaction id, an unknown state where one must be known) is a
//! [`Decode`](crate::ErrorKind::Decode) error rather than a guess.
//!
//! The long tail of programmability types (the endpoints bundle, runtime options, function
//! definitions) is the generated types themselves, re-exported here under their spec names.

mod collections;
mod entries;
mod governance;
mod programmability;
mod roles;
mod states;
mod users;

pub use collections::Collection;
pub use entries::{
    CommittedWrite, LedgerEntry, LedgerWriteResult, TransactionReceipt, TransactionStatus,
};
pub use governance::{ConsortiumMember, Constitution, EnclaveQuote, EnclaveQuotes};
pub use programmability::{
    Bundle, EndpointProperties, ExecutionStatus, ForwardingRequired, ForwardingRequiredKnown,
    FunctionExecution, InterpreterReusePolicy, JsRuntimeOptions, Metadata,
    MethodToEndpointProperties, Mode, ModeKnown, ModuleDef, RedirectionStrategy,
    RedirectionStrategyKnown, UserDefinedFunction, UserDefinedFunctionExecutionProperties,
    UserDefinedFunctionHook, UserDefinedFunctionWrite,
};
pub use roles::UserDefinedRole;
pub use states::{QueryState, TransactionState};
pub use users::{LedgerRole, LedgerUser, LegacyUser};

use crate::Error;

/// A response that decoded into the generated type but does not fit the model: a
/// [`Decode`](crate::ErrorKind::Decode) error showing (the start of) the value.
pub(crate) fn misfit(what: impl Into<String>, value: &impl serde::Serialize) -> Error {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Error::decode(what, &body)
}
