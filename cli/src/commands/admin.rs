//! `collections`, `tags`, `users`, `roles`: what the ledger holds and who may use it.

use confidential_ledger::ConfidentialLedgerClient;
use confidential_ledger::models::{LedgerRole, LedgerUser, UserDefinedRole};
use futures::TryStreamExt;
use serde_json::json;

use crate::args::{RolesCommand, TagsArgs, UsersCommand};
use crate::error::{CliError, CliResult};
use crate::options;
use crate::output::Output;

/// `collections`.
pub async fn collections(client: &ConfidentialLedgerClient, out: Output) -> CliResult {
    let mut pager = client.list_collections(None);
    while let Some(collection) = pager
        .try_next()
        .await
        .map_err(CliError::ledger("cannot list the collections"))?
    {
        out.item(&collection, || collection.collection_id.clone())?;
    }
    Ok(())
}

/// `tags`.
pub async fn tags(client: &ConfidentialLedgerClient, args: &TagsArgs, out: Output) -> CliResult {
    let mut pager = client.list_tags(Some(options::list_tags(args.collection.as_deref())));
    while let Some(tag) = pager
        .try_next()
        .await
        .map_err(CliError::ledger("cannot list the tags"))?
    {
        out.item(&json!({ "tag": tag }), || tag.clone())?;
    }
    Ok(())
}

/// `users ...`.
pub async fn users(
    client: &ConfidentialLedgerClient,
    command: &UsersCommand,
    out: Output,
) -> CliResult {
    match command {
        UsersCommand::List => {
            let mut pager = client.list_ledger_users(None);
            while let Some(user) = pager
                .try_next()
                .await
                .map_err(CliError::ledger("cannot list the users"))?
            {
                show_user(&user, out)?;
            }
            Ok(())
        }
        UsersCommand::Get { user_id } => {
            let user = client
                .get_ledger_user(user_id, None)
                .await
                .map_err(CliError::ledger(format!("cannot read the user {user_id}")))?;
            show_user(&user, out)
        }
        UsersCommand::Set { user_id, roles } => {
            let roles: Vec<LedgerRole> =
                roles.iter().map(|r| LedgerRole::from(r.as_str())).collect();
            let user = client
                .create_or_update_ledger_user(user_id, &roles, None)
                .await
                .map_err(CliError::ledger(format!(
                    "cannot set the roles of {user_id}"
                )))?;
            show_user(&user, out)
        }
        UsersCommand::Delete { user_id } => {
            client
                .delete_ledger_user(user_id, None)
                .await
                .map_err(CliError::ledger(format!(
                    "cannot delete the user {user_id}"
                )))?;
            out.show(&json!({ "deleted": user_id }), || {
                format!("deleted {user_id}")
            })
        }
    }
}

fn show_user(user: &LedgerUser, out: Output) -> CliResult {
    let roles: Vec<&str> = user.assigned_roles.iter().map(LedgerRole::as_str).collect();
    out.item(
        &json!({ "userId": user.user_id, "assignedRoles": roles }),
        || format!("{}\t{}", user.user_id, roles.join(",")),
    )
}

/// `roles ...`.
pub async fn roles(
    client: &ConfidentialLedgerClient,
    command: &RolesCommand,
    out: Output,
) -> CliResult {
    match command {
        RolesCommand::Get { name } => {
            let role = client
                .get_user_defined_role(name, None)
                .await
                .map_err(CliError::ledger(format!("cannot read the role {name}")))?;
            show_role(&role, out)
        }
        RolesCommand::Create { name, actions } => {
            let role = UserDefinedRole::new(name.as_str(), actions.iter().map(String::as_str));
            client
                .create_user_defined_role(std::slice::from_ref(&role), None)
                .await
                .map_err(CliError::ledger(format!("cannot create the role {name}")))?;
            show_role(&role, out)
        }
        RolesCommand::Update { name, actions } => {
            let role = UserDefinedRole::new(name.as_str(), actions.iter().map(String::as_str));
            client
                .update_user_defined_role(std::slice::from_ref(&role), None)
                .await
                .map_err(CliError::ledger(format!("cannot update the role {name}")))?;
            show_role(&role, out)
        }
        RolesCommand::Delete { name } => {
            client
                .delete_user_defined_role(name, None)
                .await
                .map_err(CliError::ledger(format!("cannot delete the role {name}")))?;
            out.show(&json!({ "deleted": name }), || format!("deleted {name}"))
        }
    }
}

fn show_role(role: &UserDefinedRole, out: Output) -> CliResult {
    out.item(role, || {
        format!("{}\t{}", role.role_name, role.role_actions.join(","))
    })
}
