//! Reading the organization: level by level, every list walked by marker,
//! each request signed as a global service; kept five minutes; lists that
//! cannot be right are errors; a refusal says what to grant.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use vpcep_warden::vpcep::check::organization_hint;
use vpcep_warden::vpcep::{Client, ClientOptions};

use super::{organizations, ORG};
use crate::scripted::{client_for, fast_options, settings, Reply, TestServer, AK, SK};

const DOMAIN: &str = "0a1b2c3d";

#[tokio::test]
async fn the_tree_is_read_level_by_level_with_marker_paging_and_signed_as_a_global_service() {
    let server = TestServer::start(organizations).await;
    let mut s = settings(&server.url);
    s.domain_id = Some(DOMAIN.into());
    let tree = client_for(&s)
        .organization(&server.url, &server.url)
        .await
        .unwrap();
    assert_eq!(tree.id, ORG);
    assert_eq!(tree.management_account.as_deref(), Some("top"));
    assert_eq!((tree.accounts(), tree.units), (6, 3));
    for (account, path) in [
        ("top", "o-1/r-1/"),
        ("a1", "o-1/r-1/ou-a/"),
        ("a3", "o-1/r-1/ou-a/"),
        ("deep", "o-1/r-1/ou-a/ou-a1/"),
        ("b1", "o-1/r-1/ou-b/"),
    ] {
        let member = tree.member(account).unwrap();
        assert_eq!(member.path, path, "{account}");
        assert_eq!(member.name, format!("name-{account}"));
    }
    let seen = server.requests();
    for r in &seen {
        assert_eq!(r.method, "GET");
        r.verify_signature(AK, SK)
            .unwrap_or_else(|e| panic!("{}: {e}", r.path));
        assert_eq!(r.header("X-Domain-Id"), Some(DOMAIN), "{}", r.path);
        assert_eq!(r.header("X-Project-Id"), None, "{}", r.path);
        let signed = r.header("Authorization").unwrap().to_ascii_lowercase();
        assert!(signed.contains("x-domain-id"), "{}: {signed}", r.path);
        if r.path != "/v1/organizations" {
            assert_eq!(
                r.query_value("limit").as_deref(),
                Some("1000"),
                "{}",
                r.path
            );
        }
    }
    // ou-a holds three accounts: two pages, the second asked for by its marker.
    let ou_a: Vec<_> = seen
        .iter()
        .filter(|r| r.path == "/v1/organizations/accounts")
        .filter(|r| r.query_value("parent_id").as_deref() == Some("ou-a"))
        .map(|r| r.query_value("marker"))
        .collect();
    assert_eq!(ou_a, [None, Some("p2".to_owned())]);
    // Units and accounts of each of the five parents, the organization, its roots.
    assert_eq!(seen.len(), 2 + 2 * 4 + 1);
}

#[tokio::test]
async fn without_a_configured_account_it_is_found_with_iam_first() {
    let server = TestServer::start(organizations).await;
    let tree = client_for(&settings(&server.url))
        .organization(&server.url, &server.url)
        .await
        .unwrap();
    assert_eq!(tree.accounts(), 6);
    let seen = server.requests();
    assert_eq!(seen[0].path, "/v3/auth/domains");
    assert!(seen[1..]
        .iter()
        .all(|r| r.header("X-Domain-Id") == Some("0a1b2c3d")));
}

#[tokio::test]
async fn a_tree_read_is_kept_across_calls_and_a_failed_read_is_not() {
    let fail = Arc::new(AtomicUsize::new(1));
    let failing = fail.clone();
    let server = TestServer::start(move |seen| {
        if seen.path == "/v1/organizations" && failing.fetch_sub(1, Ordering::SeqCst) == 1 {
            return Reply::error(500, "Organizations.0500", "internal error");
        }
        organizations(seen)
    })
    .await;
    let mut s = settings(&server.url);
    s.domain_id = Some(DOMAIN.into());
    let client = Client::with_options(
        &s,
        ClientOptions {
            max_retries: 0,
            ..fast_options()
        },
    )
    .unwrap();
    assert!(client.organization(&server.url, &server.url).await.is_err());
    let first = client.organization(&server.url, &server.url).await.unwrap();
    let calls = server.count();
    let again = client.organization(&server.url, &server.url).await.unwrap();
    assert_eq!(server.count(), calls, "the kept tree is used");
    assert!(Arc::ptr_eq(&first, &again));
}

#[tokio::test]
async fn lists_that_cannot_be_right_are_errors() {
    for (broken, needle) in [
        ("repeat", "twice"),
        ("no-list", "no `accounts` list"),
        ("bad-item", "not what was expected"),
    ] {
        let server = TestServer::start(move |seen| {
            if seen.path != "/v1/organizations/accounts" {
                return organizations(seen);
            }
            match broken {
                "repeat" => Reply::ok(json!({"accounts": [{"id": "x", "name": "x"}],
                    "page_info": {"next_marker": "same"}})),
                "no-list" => Reply::ok(json!({"page_info": {"next_marker": null}})),
                _ => Reply::ok(json!({"accounts": [{"name": "no id"}]})),
            }
        })
        .await;
        let mut s = settings(&server.url);
        s.domain_id = Some(DOMAIN.into());
        let e = client_for(&s)
            .organization(&server.url, &server.url)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{broken}: {e}");
    }
}

#[tokio::test]
async fn a_refusal_says_which_permission_and_where_the_warden_must_run() {
    // A member account: Organizations' own refusal (its reference's error codes).
    let member = TestServer::start(|seen| match seen.path.as_str() {
        "/v1/organizations" => organizations(seen),
        _ => Reply::error(
            401,
            "Organizations.1002",
            "This operation can be called only from the management account of an organization or by a member account that is a delegated administrator for a service.",
        ),
    })
    .await;
    // An IAM user whose policy lacks the actions.
    let denied = TestServer::start(|_| Reply::error(403, "Organizations.0403", "Forbidden")).await;
    let mut hints = Vec::new();
    for server in [&member, &denied] {
        let mut s = settings(&server.url);
        s.domain_id = Some(DOMAIN.into());
        let e = client_for(&s)
            .organization(&server.url, &server.url)
            .await
            .unwrap_err();
        hints.push(organization_hint(&e));
    }
    for needle in ["management account", "delegated administrator"] {
        assert!(hints[0].contains(needle), "{needle}: {}", hints[0]);
    }
    assert!(
        !hints[0].contains("HUAWEICLOUD_SDK_AK"),
        "not a key problem: {}",
        hints[0]
    );
    for needle in [
        "organizations:organizations:get",
        "organizations:roots:list",
        "organizations:ous:list",
        "organizations:accounts:list",
    ] {
        assert!(hints[1].contains(needle), "{needle}: {}", hints[1]);
    }
    let mut s = settings(&member.url);
    s.domain_id = Some(DOMAIN.into());
    let unreachable = client_for(&s)
        .organization("http://127.0.0.1:9", &member.url)
        .await
        .unwrap_err();
    assert!(organization_hint(&unreachable).contains("WARDEN_ORGANIZATIONS_ENDPOINT"));
}
