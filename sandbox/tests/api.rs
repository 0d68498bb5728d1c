//! The ledger API over HTTPS: shapes, status codes, headers, roles, authentication, Loading,
//! paging, users, roles, programmability, governance, faults.

mod support;

use std::time::Duration;

use confidential_ledger_sandbox::{FaultAction, Sandbox, SandboxOptions, TokenSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::Client;

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::for_tests())
        .await
        .expect("sandbox starts")
}

fn is_txid(s: &str) -> bool {
    s.parse::<confidential_ledger_sandbox::TransactionId>()
        .is_ok()
}

#[tokio::test]
async fn write_then_read_back_like_a_real_ledger() {
    let s = sandbox().await;
    let admin = Client::admin(&s);

    let r = admin
        .post("/app/transactions", json!({ "contents": "first" }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({ "collectionId": "subledger:0" }));
    assert_eq!(r.headers["content-type"], "application/json");
    let id = r.txid.clone().unwrap();
    assert!(is_txid(&id), "{id}");

    admin.wait_committed(&id).await;
    let status = admin.get(&format!("/app/transactions/{id}/status")).await;
    assert_eq!(
        status.body,
        json!({ "state": "Committed", "transactionId": id })
    );
    assert!(is_txid(status.txid.as_deref().unwrap()));

    // Historical reads answer Loading (once with the test options), then Ready.
    let first = admin.get(&format!("/app/transactions/{id}")).await;
    assert_eq!(first.body, json!({ "state": "Loading" }));
    let (ready, loading) = admin.get_ready(&format!("/app/transactions/{id}")).await;
    assert_eq!(loading, 0, "already loaded");
    assert_eq!(
        ready.body,
        json!({ "entry": { "collectionId": "subledger:0", "contents": "first", "transactionId": id }, "state": "Ready" })
    );

    // The receipt of another entry: Loading has the exact shape real ledgers send.
    let second = admin.write("second").await;
    admin.wait_committed(&second).await;
    let loading = admin
        .get(&format!("/app/transactions/{second}/receipt"))
        .await;
    assert_eq!(
        loading.body,
        json!({
            "receipt": { "nodeId": "", "proof": [], "signature": "" },
            "state": "Loading",
            "transactionId": ""
        })
    );
    // Ledgers on the 2022-05-13 API answer a null receipt while loading.
    let third = admin.write("third").await;
    admin.wait_committed(&third).await;
    let legacy = admin
        .clone()
        .with_api("2022-05-13")
        .get(&format!("/app/transactions/{third}/receipt"))
        .await;
    assert_eq!(
        legacy.body,
        json!({ "receipt": null, "state": "Loading", "transactionId": "" })
    );
    let receipt = admin.receipt(&second).await;
    assert_eq!(receipt["state"], "Ready");
    assert_eq!(receipt["transactionId"], second.as_str());
    support::verify::verify(&receipt, &s.service_certificate_pem()).expect("receipt verifies");

    // Current entry: the flat entry shape.
    let current = admin.get("/app/transactions/current").await;
    assert_eq!(current.status, StatusCode::OK);
    assert_eq!(
        current.body,
        json!({ "collectionId": "subledger:0", "contents": "third", "transactionId": third })
    );
    let none = admin
        .get("/app/transactions/current?collectionId=nothing-here")
        .await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::NOT_FOUND, "UnknownLedgerEntry")
    );
    assert!(
        none.txid.is_some(),
        "errors carry the transaction id header too"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn ids_that_cannot_exist_and_pending_ids() {
    // Signatures far apart: writes stay Pending during the test.
    let s = Sandbox::start(
        SandboxOptions::for_tests()
            .signature_interval(Duration::from_secs(3600))
            .signature_every(1_000_000),
    )
    .await
    .unwrap();
    let admin = Client::admin(&s);
    let id = admin.write("pending").await;
    let (view, seqno) = id.split_once('.').unwrap();
    let status = admin.get(&format!("/app/transactions/{id}/status")).await;
    assert_eq!(
        status.body,
        json!({ "state": "Pending", "transactionId": id })
    );
    for path in ["", "/receipt"] {
        let r = admin.get(&format!("/app/transactions/{id}{path}")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "TransactionPendingOrUnknown"),
            "{r:?}"
        );
    }
    let beyond = format!("{view}.{}", seqno.parse::<u64>().unwrap() + 1000);
    let wrong_view = format!("{}.{seqno}", view.parse::<u64>().unwrap() + 1);
    for bad in [
        "abc",
        "1",
        "2.x",
        "0.0",
        beyond.as_str(),
        wrong_view.as_str(),
    ] {
        for path in ["/status", "", "/receipt"] {
            let r = admin.get(&format!("/app/transactions/{bad}{path}")).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}{path}: {r:?}");
            assert_eq!(r.code(), "InvalidTransactionId", "{bad}{path}");
            assert!(r.body["error"]["message"].as_str().unwrap().len() > 10);
        }
    }
    let r = admin
        .get(&format!("/app/transactions?fromTransactionId={beyond}"))
        .await;
    assert_eq!(r.code(), "InvalidTransactionId");
    s.shutdown().await;
}

#[tokio::test]
async fn collections_tags_and_paged_ranges() {
    let s = Sandbox::start(SandboxOptions::for_tests().page_size(3))
        .await
        .unwrap();
    let admin = Client::admin(&s);
    let mut written = Vec::new();
    for i in 0..8 {
        let tags = if i % 2 == 0 { "even,all" } else { "all" };
        let r = admin
            .post(
                &format!("/app/transactions?collectionId=c:1&tags={tags}"),
                json!({ "contents": format!("m{i}") }),
            )
            .await;
        assert_eq!(r.body, json!({ "collectionId": "c:1" }));
        written.push(r.txid.unwrap());
    }
    let other = admin
        .post(
            "/app/transactions?collectionId=other",
            json!({ "contents": "x" }),
        )
        .await
        .txid
        .unwrap();
    admin.wait_committed(&other).await;

    let collections = admin.get("/app/collections").await;
    assert_eq!(
        collections.body,
        json!({ "collections": [{ "collectionId": "c:1" }, { "collectionId": "other" }] })
    );
    let tags = admin.get("/app/collections/tags?collectionId=c:1").await;
    assert_eq!(tags.body, json!({ "tags": ["all", "even"] }));
    let no_tags = admin.get("/app/collections/tags").await;
    assert_eq!(no_tags.body, json!({ "tags": [] }));

    // Follow nextLinks the way clients do: server-relative, carrying every parameter.
    let collect = |first: String| {
        let admin = admin.clone();
        async move {
            let mut url = format!("{}{}", admin.base, first);
            let mut contents = Vec::new();
            let mut loading = 0;
            let mut pages = 0;
            loop {
                let r = admin.send_raw(Method::GET, url.clone(), None).await;
                assert_eq!(r.status, StatusCode::OK, "{r:?}");
                pages += 1;
                if r.body["state"] == "Loading" {
                    loading += 1;
                    assert_eq!(r.body["entries"], json!([]));
                } else {
                    assert_eq!(r.body["state"], "Ready");
                    for e in r.body["entries"].as_array().unwrap() {
                        contents.push(e["contents"].as_str().unwrap().to_string());
                    }
                }
                match r.body.get("nextLink").and_then(Value::as_str) {
                    Some(link) => {
                        assert!(
                            link.starts_with("/app/transactions?api-version=2026-02-23&"),
                            "{link}"
                        );
                        url = format!("{}{}", admin.base, link);
                    }
                    None => return (contents, loading, pages),
                }
                assert!(pages < 50);
            }
        }
    };
    let (all, loading, pages) = collect(format!(
        "/app/transactions?api-version={}&collectionId=c:1",
        admin.api
    ))
    .await;
    assert_eq!(all, (0..8).map(|i| format!("m{i}")).collect::<Vec<_>>());
    assert_eq!(loading, 3, "each of the three pages loads once");
    assert_eq!(pages, 6);

    let from_to = format!(
        "/app/transactions?api-version={}&collectionId=c:1&fromTransactionId={}&toTransactionId={}&tag=even",
        admin.api, written[1], written[6]
    );
    let first = admin
        .send_raw(Method::GET, format!("{}{from_to}", admin.base), None)
        .await;
    assert_eq!(
        first.body["nextLink"],
        format!(
            "/app/transactions?api-version=2026-02-23&collectionId=c:1&fromTransactionId={}&tag=even&toTransactionId={}",
            written[1], written[6]
        )
    );
    let (even, _, _) = collect(from_to).await;
    assert_eq!(even, vec!["m2", "m4", "m6"]);

    let bad = admin
        .get(&format!(
            "/app/transactions?fromTransactionId={}&toTransactionId={}",
            written[5], written[1]
        ))
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "InvalidQueryParameterValue")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn roles_are_enforced_on_every_route() {
    let s = sandbox().await;
    let admin = Client::admin(&s);
    s.add_user("reader-oid", &["Reader"]).await.unwrap();
    s.add_user("writer-oid", &["contributor"]).await.unwrap();
    let reader = Client::bearer(&s, s.mint_token("reader-oid"));
    let writer = Client::bearer(&s, s.mint_token("writer-oid"));
    let stranger = Client::bearer(&s, s.mint_token("stranger-oid"));

    let id = writer.write("by the contributor").await;
    writer.wait_committed(&id).await;
    assert_eq!(
        reader
            .get(&format!("/app/transactions/{id}/status"))
            .await
            .status,
        StatusCode::OK
    );
    let (entry, _) = reader.get_ready(&format!("/app/transactions/{id}")).await;
    assert_eq!(entry.body["entry"]["contents"], "by the contributor");

    let denied = reader
        .post("/app/transactions", json!({ "contents": "no" }))
        .await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::FORBIDDEN, "NotAllowed")
    );
    assert!(
        denied.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Not allowed to call POST /app/transactions")
    );

    let not_a_user = stranger.get("/app/collections").await;
    assert_eq!(
        (not_a_user.status, not_a_user.code()),
        (StatusCode::FORBIDDEN, "NotAllowed")
    );
    assert!(
        not_a_user.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stranger-oid is not a user")
    );

    // Only administrators manage users, roles and programmability.
    for (method, path, body) in [
        (Method::GET, "/app/ledgerUsers", None),
        (
            Method::PATCH,
            "/app/ledgerUsers/x",
            Some(json!({ "assignedRoles": ["Reader"] })),
        ),
        (Method::DELETE, "/app/ledgerUsers/reader-oid", None),
        (Method::GET, "/app/roles?roleName=r", None),
        (
            Method::PUT,
            "/app/roles",
            Some(json!({ "roles": [{ "roleName": "r", "roleActions": [] }] })),
        ),
        (
            Method::PUT,
            "/app/userDefinedFunctions/f",
            Some(json!({ "code": "export function main() {}" })),
        ),
        (
            Method::GET,
            "/app/userDefinedEndpoints/runtimeOptions",
            None,
        ),
    ] {
        let r = writer
            .send_raw(
                method.clone(),
                writer.url(path),
                body.as_ref().map(|b| ("application/json", b.to_string())),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "NotAllowed"),
            "{method} {path}"
        );
        let r = admin
            .send_raw(
                method.clone(),
                admin.url(path),
                body.map(|b| ("application/merge-patch+json", b.to_string())),
            )
            .await;
        assert!(
            r.status.is_success() || r.status == StatusCode::NOT_FOUND,
            "{method} {path}: {r:?}"
        );
    }

    // A user-defined role granting only user reads.
    let r = admin
        .put(
            "/app/roles",
            json!({ "roles": [{ "roleName": "auditor", "roleActions": ["Microsoft.ConfidentialLedger/ledger/users/read"] }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    s.add_user("auditor-oid", &["auditor"]).await.unwrap();
    let auditor = Client::bearer(&s, s.mint_token("auditor-oid"));
    assert_eq!(auditor.get("/app/ledgerUsers").await.status, StatusCode::OK);
    assert_eq!(
        auditor.get("/app/collections").await.status,
        StatusCode::FORBIDDEN
    );
    s.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_get_401() {
    let s = sandbox().await;
    s.add_user("oid-1", &["Administrator"]).await.unwrap();
    let ok = Client::bearer(&s, s.mint_token("oid-1"));
    assert_eq!(ok.get("/app/collections").await.status, StatusCode::OK);

    let tokens = [
        s.mint_token_with(&TokenSpec::new("oid-1").expired()),
        s.mint_token_with(&TokenSpec::new("oid-1").audience("https://vault.azure.net")),
        s.mint_token_with(&TokenSpec::new("oid-1").badly_signed()),
        "not-a-jwt".to_string(),
    ];
    for t in tokens {
        let r = Client::bearer(&s, t).get("/app/collections").await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "InvalidAuthenticationInfo"),
            "{r:?}"
        );
    }
    let anonymous = Client::anonymous(&s).get("/app/collections").await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (StatusCode::UNAUTHORIZED, "InvalidAuthenticationInfo")
    );
    let mut basic = Client::anonymous(&s);
    basic.token = None;
    let r = basic
        .http
        .get(basic.url("/app/collections"))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.shutdown().await;
}

#[tokio::test]
async fn ledger_users_legacy_users_and_redirects() {
    let s = sandbox().await;
    let admin = Client::admin(&s);
    let fingerprint = "7F:75:58:60:70:A8:B6:15:A2:CD:24:55:25:B9:64:49:F8:BF:F0:E3:4D:92:EA:B2:8C:30:E6:2D:F4:77:30:1F";
    let encoded = fingerprint.replace(':', "%3A");

    let r = admin
        .patch(
            &format!("/app/ledgerUsers/{encoded}"),
            json!({ "assignedRoles": ["Reader", "contributor"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.body,
        json!({ "assignedRoles": ["Reader", "Contributor"], "userId": fingerprint })
    );
    assert!(is_txid(r.txid.as_deref().unwrap()));
    // Both spellings of the id name the same user.
    let raw = admin.get(&format!("/app/ledgerUsers/{fingerprint}")).await;
    assert_eq!(raw.body, r.body);
    // Merge patch without assignedRoles keeps the roles.
    let same = admin
        .patch(&format!("/app/ledgerUsers/{fingerprint}"), json!({}))
        .await;
    assert_eq!(same.body, r.body);
    let list = admin.get("/app/ledgerUsers").await;
    let users = list.body["ledgerUsers"].as_array().unwrap();
    assert_eq!(users.len(), 2, "the administrator and the new user");
    assert!(users.contains(&r.body));

    // Legacy single-role users with 2022-05-13.
    let legacy = admin.clone().with_api("2022-05-13");
    let created = legacy
        .patch("/app/users/aad-oid", json!({ "assignedRole": "Reader" }))
        .await;
    assert_eq!(
        created.body,
        json!({ "assignedRole": "Reader", "userId": "aad-oid" })
    );
    let got = legacy.get("/app/users/aad-oid").await;
    assert_eq!(got.body, created.body);
    let via_new = admin.get("/app/ledgerUsers/aad-oid").await;
    assert_eq!(
        via_new.body,
        json!({ "assignedRoles": ["Reader"], "userId": "aad-oid" })
    );
    let bad_role = legacy
        .patch("/app/users/aad-oid", json!({ "assignedRole": "Writer" }))
        .await;
    assert_eq!(
        (bad_role.status, bad_role.code()),
        (StatusCode::BAD_REQUEST, "InvalidInput")
    );
    let deleted = legacy.delete("/app/users/aad-oid").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.txid.is_some());
    assert_eq!(
        legacy.get("/app/users/aad-oid").await.status,
        StatusCode::NOT_FOUND
    );

    // From 2024-08-22-preview on the legacy calls are redirected, as real ledgers did in
    // January 2025 (test_user_management_cert_ledger_user.json): `Location: /ledgerUsers`,
    // no transaction id.
    for api in ["2024-08-22-preview", "2024-12-09-preview", "2026-02-23"] {
        let c = admin.clone().with_api(api);
        for r in [
            c.patch(
                "/app/users/aad-oid",
                json!({ "assignedRole": "Contributor" }),
            )
            .await,
            c.delete(&format!("/app/users/{fingerprint}")).await,
            c.get("/app/users").await,
        ] {
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::MOVED_PERMANENTLY, "ApiVersionRedirect"),
                "{api}"
            );
            assert_eq!(r.headers["location"], "/ledgerUsers", "{api}");
            assert!(r.txid.is_none(), "{api}: {r:?}");
        }
    }
    let deleted = admin.delete(&format!("/app/ledgerUsers/{encoded}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = admin.get(&format!("/app/ledgerUsers/{encoded}")).await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, "UserNotFound")
    );
    s.shutdown().await;
}

/// Path parameters are decoded as the service decodes them (CCF's URL decoding): `%XX`, and
/// `+` as a space. A client that sends a `+` in a user id unencoded names another user.
#[tokio::test]
async fn path_parameters_are_decoded_like_the_service_plus_is_a_space() {
    let s = sandbox().await;
    let admin = Client::admin(&s);
    let roles = |role: &str| json!({ "assignedRoles": [role] });
    let raw = admin
        .patch("/app/ledgerUsers/plus+sign", roles("Reader"))
        .await;
    assert_eq!(raw.status, StatusCode::OK, "{raw:?}");
    assert_eq!(raw.body["userId"], "plus sign");
    let encoded = admin
        .patch("/app/ledgerUsers/plus%2Bsign", roles("Contributor"))
        .await;
    assert_eq!(encoded.body["userId"], "plus+sign");
    let spaced = admin.get("/app/ledgerUsers/plus%20sign").await;
    assert_eq!(
        spaced.body,
        json!({ "assignedRoles": ["Reader"], "userId": "plus sign" })
    );
    let slashed = admin
        .patch("/app/ledgerUsers/a%2Fb%23c%3Fd%25e", roles("Reader"))
        .await;
    assert_eq!(slashed.body["userId"], "a/b#c?d%e");
    let listed = admin.get("/app/ledgerUsers").await;
    let ids: Vec<&str> = listed.body["ledgerUsers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userId"].as_str())
        .collect();
    for id in ["plus sign", "plus+sign", "a/b#c?d%e"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let deleted = admin.delete("/app/ledgerUsers/plus%2Bsign").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        admin.get("/app/ledgerUsers/plus+sign").await.status,
        StatusCode::OK,
        "the user with a space is another user"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn legacy_users_without_redirect_when_switched_off() {
    let s = Sandbox::start(SandboxOptions::for_tests().legacy_users_redirect(false))
        .await
        .unwrap();
    let admin = Client::admin(&s);
    let r = admin
        .patch(
            "/app/users/someone",
            json!({ "assignedRole": "Administrator" }),
        )
        .await;
    assert_eq!(
        r.body,
        json!({ "assignedRole": "Administrator", "userId": "someone" })
    );
    let list = admin.get("/app/users").await;
    assert!(
        list.body["ledgerUsers"]
            .as_array()
            .unwrap()
            .contains(&r.body)
    );
    s.shutdown().await;
}

#[tokio::test]
async fn user_defined_roles_accept_both_spellings() {
    let s = sandbox().await;
    let admin = Client::admin(&s);
    let r = admin
        .put(
            "/app/roles",
            json!({ "roles": [
                { "roleName": "writer", "roleActions": ["Microsoft.ConfidentialLedger/ledger/write", "Microsoft.ConfidentialLedger/ledger/read"] },
                { "role_name": "snake", "role_actions": ["Microsoft.ConfidentialLedger/ledger/read"] }
            ] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.body["roles"][1],
        json!({ "roleActions": ["Microsoft.ConfidentialLedger/ledger/read"], "roleName": "snake" })
    );
    let got = admin.get("/app/roles?roleName=snake").await;
    assert_eq!(
        got.body,
        json!({ "role": [{ "roleActions": ["Microsoft.ConfidentialLedger/ledger/read"], "roleName": "snake" }] })
    );

    // A user holding the custom role can write.
    let user = admin
        .patch(
            "/app/ledgerUsers/w-oid",
            json!({ "assignedRoles": ["writer"] }),
        )
        .await;
    assert_eq!(user.body["assignedRoles"], json!(["writer"]));
    let w = Client::bearer(&s, s.mint_token("w-oid"));
    w.write("custom role write").await;

    // Narrow it: the user can no longer write.
    let patched = admin
        .patch("/app/roles", json!({ "roles": [{ "roleName": "writer", "roleActions": ["Microsoft.ConfidentialLedger/ledger/read"] }] }))
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(
        w.post("/app/transactions", json!({ "contents": "x" }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let missing = admin
        .patch(
            "/app/roles",
            json!({ "roles": [{ "roleName": "ghost", "roleActions": [] }] }),
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "RoleNotFound")
    );
    let builtin = admin
        .put(
            "/app/roles",
            json!({ "roles": [{ "roleName": "Administrator", "roleActions": [] }] }),
        )
        .await;
    assert_eq!(builtin.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        admin.delete("/app/roles?roleName=writer").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.get("/app/roles?roleName=writer").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.get("/app/roles").await.code(),
        "InvalidQueryParameterValue"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn governance_reads_and_identity_endpoint() {
    let s = sandbox().await;
    let admin = Client::admin(&s);
    let members = admin.get("/app/governance/members").await;
    let list = members.body["members"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let pem = list[0]["certificate"].as_str().unwrap();
    let der = pem::parse(pem).unwrap().into_contents();
    assert_eq!(list[0]["id"], hex::encode(Sha256::digest(&der)));

    let constitution = admin.get("/app/governance/constitution").await;
    let script = constitution.body["script"].as_str().unwrap();
    assert!(script.contains("export function resolve"));
    assert_eq!(
        constitution.body["digest"],
        hex::encode(Sha256::digest(script.as_bytes()))
    );

    let quotes = admin.get("/app/enclaveQuotes").await;
    let node = quotes.body["currentNodeId"].as_str().unwrap().to_string();
    let quote = &quotes.body["enclaveQuotes"][&node];
    assert_eq!(quote["nodeId"], node.as_str());
    assert_eq!(quote["quoteVersion"], "Insecure_Virtual");
    let raw = String::from_utf8(hex::decode(quote["raw"].as_str().unwrap()).unwrap()).unwrap();
    assert!(raw.contains("NOT A HARDWARE ATTESTATION"));

    let http = support::plain_http(&s);
    let url = format!(
        "{}/ledgerIdentity/{}?api-version=2026-02-23",
        s.identity_endpoint(),
        s.ledger_id()
    );
    let answer = http.get(url).send().await.unwrap();
    assert_eq!(
        answer.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let identity: Value = answer.json().await.unwrap();
    assert_eq!(
        identity,
        json!({ "ledgerId": "sandbox", "ledgerTlsCertificate": s.service_certificate_pem() })
    );
    let other = http
        .get(format!(
            "{}/ledgerIdentity/someone-else?api-version=2026-02-23",
            s.identity_endpoint()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let body: Value = other.json().await.unwrap();
    assert_eq!(body["error"]["code"], "LedgerNotFound");
    s.shutdown().await;
}

#[tokio::test]
async fn programmability_is_stored_and_functions_run() {
    let s = sandbox().await;
    let admin = Client::admin(&s);
    let code = "export function main() { return true }";
    let created = admin
        .put(
            "/app/userDefinedFunctions/myFunction",
            json!({ "code": code }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body, json!({ "code": code, "id": "myFunction" }));
    assert!(created.txid.is_some());
    let replaced = admin
        .put(
            "/app/userDefinedFunctions/myFunction",
            json!({ "code": code }),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(
        admin.get("/app/userDefinedFunctions/myFunction").await.body,
        created.body
    );
    assert_eq!(
        admin.get("/app/userDefinedFunctions").await.body,
        json!({ "functions": [created.body] })
    );
    let exec = admin
        .post(
            "/app/userDefinedFunctions/myFunction:execute",
            json!({ "arguments": [] }),
        )
        .await;
    assert_eq!(
        (exec.status, exec.body),
        (
            StatusCode::OK,
            json!({ "status": "Succeeded", "result": { "returnValue": "true" } })
        )
    );
    let hooks = admin
        .post(
            "/app/transactions",
            json!({ "contents": "x", "preHooks": [{ "functionId": "myFunction" }] }),
        )
        .await;
    assert_eq!(hooks.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        admin
            .delete("/app/userDefinedFunctions/myFunction")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin
            .get("/app/userDefinedFunctions/myFunction")
            .await
            .code(),
        "FunctionNotFound"
    );

    let empty = admin.get("/app/userDefinedEndpoints").await;
    assert_eq!(
        empty.body,
        json!({ "metadata": { "endpoints": {} }, "modules": [] })
    );
    let bundle = json!({
        "metadata": { "endpoints": { "/content": { "get": { "forwarding_required": "always", "authn_policies": [{}] } } } },
        "modules": [{ "name": "test.js", "module": "export function content() {}" }]
    });
    let put = admin.put("/app/userDefinedEndpoints", bundle.clone()).await;
    assert_eq!(
        (put.status, put.body.clone()),
        (StatusCode::CREATED, Value::Null)
    );
    // The service answers the methods in upper case.
    let mut stored = bundle.clone();
    stored["metadata"]["endpoints"]["/content"] =
        json!({ "GET": bundle["metadata"]["endpoints"]["/content"]["get"] });
    assert_eq!(admin.get("/app/userDefinedEndpoints").await.body, stored);
    let module = admin
        .get("/app/userDefinedEndpoints/modules?module_name=test.js")
        .await;
    assert_eq!(module.body, bundle["modules"][0]);
    // The route names no js_module: the call fails as a broken script does.
    let call = admin.get("/app/content").await;
    assert_eq!(
        (call.status, call.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
    );
    assert_eq!(
        admin
            .put("/app/userDefinedEndpoints", json!({ "modules": [] }))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let options = admin.get("/app/userDefinedEndpoints/runtimeOptions").await;
    assert_eq!(options.body["max_execution_time_ms"], 1000);
    let patched = admin
        .patch(
            "/app/userDefinedEndpoints/runtimeOptions",
            json!({ "max_execution_time_ms": 1200, "log_exception_details": true }),
        )
        .await;
    assert_eq!(patched.body["max_execution_time_ms"], 1200);
    assert_eq!(patched.body["log_exception_details"], true);
    assert_eq!(
        patched.body["max_heap_bytes"],
        options.body["max_heap_bytes"]
    );
    let bad = admin
        .patch(
            "/app/userDefinedEndpoints/runtimeOptions",
            json!({ "max_heap_bytes": -1 }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

#[tokio::test]
async fn api_versions_paths_methods_and_bodies_are_checked() {
    let s = sandbox().await;
    let admin = Client::admin(&s);
    let missing = admin
        .send_raw(Method::GET, format!("{}/app/collections", admin.base), None)
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::BAD_REQUEST, "QueryParameterError")
    );
    let unsupported = admin
        .clone()
        .with_api("2099-01-01")
        .get("/app/collections")
        .await;
    assert_eq!(unsupported.code(), "QueryParameterError");
    assert!(
        unsupported.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2099-01-01 is not available")
    );
    for api in [
        "2022-05-13",
        "2024-08-22-preview",
        "2024-12-09-preview",
        "2026-02-23",
        "2026-07-31-preview",
    ] {
        assert_eq!(
            admin
                .clone()
                .with_api(api)
                .get("/app/collections")
                .await
                .status,
            StatusCode::OK,
            "{api}"
        );
    }
    let unknown = admin.get("/app/nothing").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "ResourceNotFound")
    );
    let method = admin.delete("/app/transactions").await;
    assert_eq!(
        (method.status, method.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "UnsupportedHttpVerb")
    );

    let no_contents = admin
        .post("/app/transactions", json!({ "text": "x" }))
        .await;
    assert_eq!(
        (no_contents.status, no_contents.code()),
        (StatusCode::BAD_REQUEST, "InvalidInput")
    );
    let not_json = admin
        .send_raw(
            Method::POST,
            admin.url("/app/transactions"),
            Some(("application/json", "{".into())),
        )
        .await;
    assert_eq!(not_json.code(), "InvalidInput");
    let text = admin
        .send_raw(
            Method::POST,
            admin.url("/app/transactions"),
            Some(("text/plain", "hi".into())),
        )
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = "x".repeat(2 * 1024 * 1024);
    let too_big = admin
        .post("/app/transactions", json!({ "contents": big }))
        .await;
    assert_eq!(
        (too_big.status, too_big.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "RequestBodyTooLarge")
    );
    let undecodable = admin.get("/app/ledgerUsers/%FF%FE").await;
    assert_eq!(
        (undecodable.status, undecodable.code()),
        (StatusCode::BAD_REQUEST, "InvalidInput")
    );
    let bad_collection = admin
        .post(
            "/app/transactions?collectionId=",
            json!({ "contents": "x" }),
        )
        .await;
    assert_eq!(bad_collection.code(), "InvalidQueryParameterValue");
    s.shutdown().await;
}

#[tokio::test]
async fn wait_for_commit_answers_with_the_receipt() {
    let s = sandbox().await;
    let admin = Client::admin(&s).with_api("2026-07-31-preview");
    let r = admin
        .post(
            "/app/transactions?waitForCommit=true&collectionId=w",
            json!({ "contents": "waited" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["state"], "Committed");
    assert_eq!(r.body["collectionId"], "w");
    let id = r.txid.clone().unwrap();
    let as_receipt = json!({ "receipt": r.body["receipt"], "transactionId": id, "applicationClaims": r.body["applicationClaims"] });
    support::verify::verify(&as_receipt, &s.service_certificate_pem()).unwrap();
    s.shutdown().await;
}

#[tokio::test]
async fn injected_faults() {
    let s = sandbox().await;
    let admin = Client::admin(&s);

    s.faults().inject(
        "POST",
        "/app/transactions",
        2,
        FaultAction::status(503).retry_after(Duration::from_millis(1500)),
    );
    for _ in 0..2 {
        let r = admin
            .post("/app/transactions", json!({ "contents": "x" }))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
        );
        assert_eq!(r.headers["retry-after"], "2");
        assert!(r.txid.is_some());
    }
    assert_eq!(s.faults().injected(), 2);
    let before = admin.write("after the faults").await;
    admin.wait_committed(&before).await;
    s.faults().inject(
        "*",
        "/app/collections",
        1,
        FaultAction::status(429).code("Throttled"),
    );
    assert_eq!(admin.get("/app/collections").await.code(), "Throttled");

    // Dropped before processing: no answer, nothing written.
    s.faults().inject(
        "POST",
        "/app/transactions",
        1,
        FaultAction::DropBeforeProcessing,
    );
    let err = admin
        .http
        .post(admin.url("/app/transactions"))
        .json(&json!({ "contents": "lost" }))
        .send()
        .await;
    assert!(err.is_err(), "{err:?}");
    let current = admin.get("/app/transactions/current").await;
    assert_eq!(current.body["contents"], "after the faults");

    // Dropped after processing: no answer, but the write happened.
    s.faults().inject(
        "POST",
        "/app/transactions",
        1,
        FaultAction::DropAfterProcessing,
    );
    let err = admin
        .http
        .post(admin.url("/app/transactions"))
        .json(&json!({ "contents": "applied" }))
        .send()
        .await;
    assert!(err.is_err(), "{err:?}");
    let current = admin.get("/app/transactions/current").await;
    assert_eq!(current.body["contents"], "applied");

    // A secondary redirecting writes to the primary.
    s.faults().inject(
        "POST",
        "/app/transactions",
        1,
        FaultAction::redirect(s.ledger_endpoint()),
    );
    let r = admin
        .post(
            "/app/transactions?collectionId=r",
            json!({ "contents": "moved" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        r.headers["location"],
        format!(
            "{}/app/transactions?collectionId=r&api-version=2026-02-23",
            s.ledger_endpoint()
        )
        .as_str()
    );
    assert_eq!(s.faults().injected(), 6);
    assert_eq!(s.faults().remaining(), 0);
    s.shutdown().await;
}

#[tokio::test]
async fn the_commit_log_says_when_each_commit_became_visible() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("commits.log");
    let s = Sandbox::start(SandboxOptions::for_tests().commit_log(Some(path.clone())))
        .await
        .unwrap();
    let admin = Client::admin(&s);
    let mut written = Vec::new();
    for n in 0..3 {
        let before = std::time::SystemTime::now();
        let id = admin.write(&format!("logged {n}")).await;
        admin.wait_committed(&id).await;
        let seen = std::time::SystemTime::now();
        let seqno: u64 = id.split_once('.').unwrap().1.parse().unwrap();
        written.push((seqno, before, seen));
    }
    let log = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<(u64, u128)> = log
        .lines()
        .map(|line| {
            let (seqno, micros) = line.split_once(' ').unwrap();
            (seqno.parse().unwrap(), micros.parse().unwrap())
        })
        .collect();
    assert!(
        lines
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "{log}"
    );
    let micros =
        |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_micros();
    for (seqno, before, seen) in written {
        // The first line that covers the write: after it was sent, by the time it was seen
        // (give or take the log task's wake-up, which may run just after a status read saw
        // the commit: 100 ms allowed on a loaded machine).
        let (_, at) = lines
            .iter()
            .find(|(committed, _)| *committed >= seqno)
            .unwrap_or_else(|| panic!("no commit of {seqno} in {log}"));
        assert!(
            (micros(before)..=micros(seen) + 100_000).contains(at),
            "{seqno}: {at} not within the write and its commit seen\n{log}"
        );
    }
}
