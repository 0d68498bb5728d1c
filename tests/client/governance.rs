//! Governance and attestation reads.

use futures::TryStreamExt;

use crate::support::{admin, sandbox, token_user, within};

#[tokio::test]
async fn constitution_members_and_quotes() {
    let sandbox = sandbox().await;
    let client = token_user(&sandbox, "gov-reader", &["Reader"]).await;

    let constitution = within(client.get_constitution(None)).await.unwrap();
    assert!(!constitution.script.is_empty());
    assert!(constitution.digest_matches());
    let mut forged = constitution.clone();
    forged.script.push(' ');
    assert!(!forged.digest_matches());

    let members: Vec<_> = within(client.list_consortium_members(None).try_collect())
        .await
        .unwrap();
    assert!(!members.is_empty());
    for member in &members {
        // A member's id is the SHA-256 of its certificate's DER.
        let pinned =
            confidential_ledger::tls::PinnedCertificate::from_pem(&member.certificate).unwrap();
        assert_eq!(
            pinned.fingerprint().replace(':', "").to_lowercase(),
            member.id.to_lowercase()
        );
    }

    let quotes = within(client.get_enclave_quotes(None)).await.unwrap();
    assert!(quotes.enclave_quotes.contains_key(&quotes.current_node_id));
    for (node, quote) in &quotes.enclave_quotes {
        assert_eq!(&quote.node_id, node);
        assert!(!quote.raw.is_empty());
    }

    // The same through the raw generated client.
    let admin = admin(&sandbox).await;
    let raw = admin.raw();
    let value = within(raw.get_constitution(&admin.options().api_version))
        .await
        .unwrap();
    assert_eq!(value.digest, constitution.digest);
}
