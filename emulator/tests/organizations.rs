//! Organizations: the tree of the scenario, read by marker pages, by the
//! management account or a delegated administrator only; whitelist records
//! by org path and account name admit its members.

use serde_json::{json, Value};

use crate::support::*;

const THIRD: &str = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

/// The provider manages `o-test`: root `r-test`, unit `ou-shops` holding the
/// consumer (named `shop-01`) and a unit `ou-eu` holding `THIRD`; the
/// consumer is a delegated administrator when `delegated`.
async fn emulator(delegated: bool) -> vpcep_emulator::Emulator {
    let delegated: Vec<&str> = if delegated { vec!["consumer"] } else { vec![] };
    start(json!({
        "organization": {"id": "o-test", "management_account": "provider",
            "delegated_administrators": delegated,
            "roots": [{"id": "r-test", "name": "Root", "units": [
                {"id": "ou-shops", "name": "Shops",
                 "accounts": [{"domain_id": CONSUMER_DOMAIN, "name": "shop-01"}],
                 "units": [{"id": "ou-eu", "accounts": [{"domain_id": THIRD}]}]}
            ]}]},
        "services": [
            {"id": "svc-ou", "owner": "provider", "permissions": ["organizations:orgPath::o-test/r-test/ou-shops"]},
            {"id": "svc-name", "owner": "provider", "permissions": ["iam:domainName::shop-.*"]},
            {"id": "svc-other", "owner": "provider", "permissions": ["organizations:orgPath::o-test/r-test/ou-none/*"]}
        ]
    }))
    .await
}

async fn get(caller: &Caller, path: &str, domain: &str) -> Answer {
    send(caller.prepare_iam("GET", path, None, Some(domain))).await
}

fn ids(answer: &Answer, key: &str) -> Vec<String> {
    answer.body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {:?}", answer.body))
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_management_account_reads_the_tree_by_parent_and_marker() {
    let emu = emulator(false).await;
    let p = provider(&emu);
    let org = get(&p, "/v1/organizations", PROVIDER_DOMAIN).await;
    assert_eq!(org.status, 200, "{:?}", org.body);
    assert_eq!(org.body["organization"]["id"], "o-test");
    assert_eq!(
        org.body["organization"]["management_account_id"],
        PROVIDER_DOMAIN
    );
    let roots = get(&p, "/v1/organizations/roots?limit=1000", PROVIDER_DOMAIN).await;
    assert_eq!(ids(&roots, "roots"), ["r-test"]);
    assert_eq!(roots.body["page_info"]["next_marker"], Value::Null);
    let units = get(
        &p,
        "/v1/organizations/organizational-units?parent_id=r-test",
        PROVIDER_DOMAIN,
    )
    .await;
    assert_eq!(ids(&units, "organizational_units"), ["ou-shops"]);
    let all = get(
        &p,
        "/v1/organizations/organizational-units",
        PROVIDER_DOMAIN,
    )
    .await;
    assert_eq!(ids(&all, "organizational_units"), ["ou-shops", "ou-eu"]);
    // The management account sits under the first root; the members in their units.
    let root_accounts = get(
        &p,
        "/v1/organizations/accounts?parent_id=r-test",
        PROVIDER_DOMAIN,
    )
    .await;
    assert_eq!(ids(&root_accounts, "accounts"), [PROVIDER_DOMAIN]);
    let shops = get(
        &p,
        "/v1/organizations/accounts?parent_id=ou-shops",
        PROVIDER_DOMAIN,
    )
    .await;
    assert_eq!(shops.body["accounts"][0]["name"], "shop-01");
    // Paged by marker: one a page over the three accounts.
    let first = get(&p, "/v1/organizations/accounts?limit=1", PROVIDER_DOMAIN).await;
    let marker = first.body["page_info"]["next_marker"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = get(
        &p,
        &format!("/v1/organizations/accounts?limit=1&marker={marker}"),
        PROVIDER_DOMAIN,
    )
    .await;
    assert_eq!(ids(&second, "accounts"), [marker]);
    let account = get(
        &p,
        &format!("/v1/organizations/accounts/{THIRD}"),
        PROVIDER_DOMAIN,
    )
    .await;
    assert_eq!(account.body["account"]["name"], THIRD);
    let entities = get(
        &p,
        "/v1/organizations/entities?parent_id=ou-shops",
        PROVIDER_DOMAIN,
    )
    .await;
    let kinds: Vec<&str> = entities.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["organizational_unit", "account"]);
    let bad = get(
        &p,
        "/v1/organizations/accounts?marker=nowhere",
        PROVIDER_DOMAIN,
    )
    .await;
    assert_eq!((bad.status, bad.code()), (400, "Organizations.0400"));
}

#[tokio::test]
async fn a_member_reads_the_organization_only_unless_it_is_a_delegated_administrator() {
    let emu = emulator(false).await;
    let c = consumer(&emu);
    let org = get(&c, "/v1/organizations", CONSUMER_DOMAIN).await;
    assert_eq!(org.status, 200, "{:?}", org.body);
    let refused = get(&c, "/v1/organizations/accounts", CONSUMER_DOMAIN).await;
    assert_eq!(
        (refused.status, refused.code()),
        (401, "Organizations.1002")
    );
    let emu = emulator(true).await;
    let accounts = get(
        &consumer(&emu),
        "/v1/organizations/accounts",
        CONSUMER_DOMAIN,
    )
    .await;
    assert_eq!(accounts.status, 200, "{:?}", accounts.body);
    // Organizations is global: without the account signed, refused.
    let unsigned = send(provider(&emu).prepare_iam("GET", "/v1/organizations", None, None)).await;
    assert_eq!(unsigned.status, 401);
}

#[tokio::test]
async fn org_path_and_name_records_admit_the_members_they_allow() {
    let emu = emulator(false).await;
    let c = consumer(&emu);
    for (service, admitted) in [("svc-ou", true), ("svc-name", true), ("svc-other", false)] {
        let answer = c.post("/vpc-endpoints", endpoint_body(service)).await;
        assert_eq!(
            answer.status == 200,
            admitted,
            "{service}: {:?}",
            answer.body
        );
    }
    let listed = provider(&emu)
        .get("/vpc-endpoint-services/svc-ou/permissions")
        .await;
    assert_eq!(listed.body["permissions"][0]["permission_type"], "orgPath");
}

#[tokio::test]
async fn an_account_outside_every_organization_is_told_so() {
    let emu = start(json!({})).await;
    let answer = get(&provider(&emu), "/v1/organizations", PROVIDER_DOMAIN).await;
    assert_eq!((answer.status, answer.code()), (404, "Organizations.0404"));
}
