#!/usr/bin/env python3
"""Checks the emulator against Huawei's official Python SDKs (huaweicloudsdkvpcep,
huaweicloudsdkiam, huaweicloudsdkorganizations).

Usage: python3 emulator/tests/sdk/check_sdk.py target/debug/vpcep-emulator

Starts the given emulator binary with a two-account scenario (provider and
consumer), then, through the SDK's own signed requests, lists services,
endpoints and connections, accepts a connection, describes a connection,
reads quotas, deletes an endpoint, reads versions, adds whitelist records and
creates an endpoint, reads a failed service's error, calls with temporary
credentials (with their security token, with a wrong one, with none), and
assumes an agency through the official IAM SDK (which finds its account with
GET /v3/auth/domains), reads the organization (roots, units and accounts by
parent, by marker pages, an account, entities) through the official
Organizations SDK as the management account and is refused as a plain
member, and adds an org-path whitelist record, checking every answer. Prints
"N passed, M failed" and exits non-zero on any failure. Requires: pip install
huaweicloudsdkvpcep huaweicloudsdkiam huaweicloudsdkorganizations
"""

import json
import os
import subprocess
import sys
import tempfile

try:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
    from huaweicloudsdkcore.region.region import Region
    from huaweicloudsdkiam.v3 import (
        AgencyAuth,
        AgencyAuthIdentity,
        CreateTemporaryAccessKeyByAgencyRequest,
        CreateTemporaryAccessKeyByAgencyRequestBody,
        IamClient,
        IdentityAssumerole,
    )
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    from huaweicloudsdkorganizations.v1 import (
        ListAccountsRequest,
        ListEntitiesRequest,
        ListOrganizationalUnitsRequest,
        ListRootsRequest,
        OrganizationsClient,
        ShowAccountRequest,
        ShowOrganizationRequest,
    )
    from huaweicloudsdkvpcep.v1 import (
        AcceptOrRejectEndpointRequest,
        AcceptOrRejectEndpointRequestBody,
        AddOrRemoveServicePermissionsRequest,
        AddOrRemoveServicePermissionsRequestBody,
        ConnectionsDesc,
        CreateEndpointRequest,
        CreateEndpointRequestBody,
        DeleteEndpointRequest,
        ListEndpointInfoDetailsRequest,
        ListEndpointServiceRequest,
        ListEndpointsRequest,
        ListQuotaDetailsRequest,
        ListServiceConnectionsRequest,
        ListServiceDetailsRequest,
        ListServiceDescribeDetailsRequest,
        ListServicePermissionsDetailsRequest,
        ListVersionDetailsRequest,
        UpdateEndpointConnectionsDescRequest,
        UpdateEndpointConnectionsDescRequestBody,
        VpcepClient,
    )
except ImportError as missing:  # say how to fix it rather than a traceback
    sys.exit(f"an official SDK is not installed ({missing}): pip install -r .ci/requirements.txt")

PROVIDER = {"name": "provider", "domain_id": "0a1b2c3d4e5f4a0b9c8d7e6f5a4b3c21",
            "project_id": "1f2e3d4c5b6a47988776655443322110", "ak": "SDKPROVIDERAK", "sk": "sdk-provider-secret"}
CONSUMER = {"name": "consumer", "domain_id": "9f8e7d6c5b4a49380716253443526170",
            "project_id": "2a3b4c5d6e7f48091a2b3c4d5e6f7081", "ak": "SDKCONSUMERAK", "sk": "sdk-consumer-secret"}
# Temporary credentials of the provider, as IAM's securitytokens API hands out.
TEMPORARY = {"ak": "SDKPROVIDERTEMPAK", "sk": "sdk-provider-temporary-secret",
             "security_token": "sdk-provider-security-token", "expires_at": "2099-01-01T00:00:00Z"}
SERVICE_ID = "5133655d-0e28-4090-b669-13f87b355c78"
PENDING_EP = "03184a04-95d5-4555-86c4-e767a371ff99"
ACCEPTED_EP = "43b0e3b0-eec9-49da-866b-6687b75f9fe5"
FAILED_EP = "7d6e5f40-1111-4222-8333-944455566677"
FAILED_SERVICE = "6f1e2d3c-2222-4333-8444-a55566677788"
# An account of the organization without credentials here.
EU_ACCOUNT = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c"
ORG_PATH = "organizations:orgPath::o-sdk/r-sdk/ou-sdk/*"

SCENARIO = {
    "accounts": [dict(PROVIDER, temporary=[TEMPORARY]),
                 dict(CONSUMER, agencies=[{"name": "sdk-ops", "trusted_domain_id": PROVIDER["domain_id"]}])],
    "quotas": {"endpoint": 150, "endpoint_service": 20},
    # The provider manages o-sdk: the consumer in ou-sdk, EU_ACCOUNT in ou-sdk-eu below it.
    "organization": {"id": "o-sdk", "management_account": "provider", "roots": [
        {"id": "r-sdk", "name": "Root", "units": [
            {"id": "ou-sdk", "name": "Shops", "accounts": [{"domain_id": CONSUMER["domain_id"], "name": "sdk-consumer"}],
             "units": [{"id": "ou-sdk-eu", "name": "EU", "accounts": [{"domain_id": EU_ACCOUNT, "name": "sdk-eu"}]}]}]}]},
    "services": [{"id": FAILED_SERVICE, "owner": "consumer", "service_name": "sdk-failed", "status": "failed"}, {
        "id": SERVICE_ID, "owner": "provider", "service_name": "sdk-check", "approval_enabled": True,
        "connections": [
            {"endpoint_id": PENDING_EP, "domain_id": CONSUMER["domain_id"], "status": "pendingAcceptance",
             "created_at": "2026-01-01T00:00:00Z"},
            {"endpoint_id": ACCEPTED_EP, "status": "accepted", "created_at": "2026-01-02T00:00:00Z"},
        ],
    }],
    "endpoints": [
        {"id": FAILED_EP, "owner": "provider", "status": "failed", "endpoint_service_id": SERVICE_ID,
         "created_at": "2026-01-03T00:00:00Z", "updated_at": "2026-01-04T00:00:00Z",
         "tags": [{"key": "team", "value": "sdk"}]},
    ],
}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        try:
            fn()
        except Exception as e:  # report every kind of failure and go on
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name}", flush=True)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def client(base_url, account, sk=None, temporary=None, security_token=None):
    """A client of `account`; with `temporary`, its temporary AK/SK and `security_token`."""
    if temporary:
        credentials = BasicCredentials(temporary["ak"], temporary["sk"], account["project_id"])
        if security_token is not None:
            credentials = credentials.with_security_token(security_token)
    else:
        credentials = BasicCredentials(account["ak"], sk or account["sk"], account["project_id"])
    return VpcepClient.new_builder().with_credentials(credentials).with_endpoints([base_url]).build()


def organizations(base_url, account):
    """An Organizations client of `account` (a global service: its domain id signed)."""
    credentials = GlobalCredentials(account["ak"], account["sk"], account["domain_id"])
    return OrganizationsClient.new_builder().with_credentials(credentials).with_endpoints([base_url]).build()


def start_emulator(binary, scenario_path, log):
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--scenario", scenario_path],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline().strip()
    prefix = "listening on "
    if not line.startswith(prefix):
        proc.kill()
        raise SystemExit(f"the emulator did not start: first line {line!r}")
    return proc, line[len(prefix):]


def run_checks(base):
    provider, consumer = client(base, PROVIDER), client(base, CONSUMER)
    checks = Checks()

    def services():
        r = provider.list_endpoint_service(ListEndpointServiceRequest(limit=1000))
        expect(r.total_count == 1, f"total_count {r.total_count}")
        expect(r.endpoint_services[0].id == SERVICE_ID, r.endpoint_services[0].id)
        expect(r.endpoint_services[0].approval_enabled is True, "approval_enabled")

    def describe():
        r = consumer.list_service_describe_details(ListServiceDescribeDetailsRequest(id=SERVICE_ID))
        expect(r.service_name == "sdk-check", r.service_name)

    def pending_connections():
        r = provider.list_service_connections(ListServiceConnectionsRequest(
            vpc_endpoint_service_id=SERVICE_ID, status="pendingAcceptance", limit=1000))
        expect(r.total_count == 1, f"total_count {r.total_count}")
        expect(r.connections[0].id == PENDING_EP, r.connections[0].id)
        expect(r.connections[0].domain_id == CONSUMER["domain_id"], r.connections[0].domain_id)

    def all_connections_sorted():
        r = provider.list_service_connections(ListServiceConnectionsRequest(
            vpc_endpoint_service_id=SERVICE_ID, sort_key="created_at", sort_dir="asc", limit=1000, offset=0))
        expect([c.id for c in r.connections] == [PENDING_EP, ACCEPTED_EP, FAILED_EP], [c.id for c in r.connections])

    def accept():
        body = AcceptOrRejectEndpointRequestBody(action="receive", endpoints=[PENDING_EP])
        r = provider.accept_or_reject_endpoint(
            AcceptOrRejectEndpointRequest(vpc_endpoint_service_id=SERVICE_ID, body=body))
        expect(r.connections[0].status == "accepted", r.connections[0].status)

    def accept_again_is_2014():
        body = AcceptOrRejectEndpointRequestBody(action="receive", endpoints=[PENDING_EP])
        try:
            provider.accept_or_reject_endpoint(
                AcceptOrRejectEndpointRequest(vpc_endpoint_service_id=SERVICE_ID, body=body))
        except ClientRequestException as e:
            expect(e.status_code == 400 and e.error_code == "EndPoint.2014", f"{e.status_code} {e.error_code}")
        else:
            raise AssertionError("a second accept succeeded")

    def describe_connection():
        note = "owned by the payments team"
        body = UpdateEndpointConnectionsDescRequestBody(connections=[ConnectionsDesc(id=PENDING_EP, description=note)])
        r = provider.update_endpoint_connections_desc(
            UpdateEndpointConnectionsDescRequest(vpc_endpoint_service_id=SERVICE_ID, body=body))
        expect([(c.id, c.description) for c in r.connections] == [(PENDING_EP, note)], r.connections)
        r = provider.list_service_connections(ListServiceConnectionsRequest(
            vpc_endpoint_service_id=SERVICE_ID, id=PENDING_EP, limit=1000))
        expect(r.total_count == 1 and r.connections[0].description == note, r.connections)
        r = consumer.list_endpoint_info_details(ListEndpointInfoDetailsRequest(vpc_endpoint_id=PENDING_EP))
        expect(r.description == "", f"the consumer's endpoint description changed: {r.description!r}")

    def consumer_describing_is_refused():
        body = UpdateEndpointConnectionsDescRequestBody(connections=[ConnectionsDesc(id=PENDING_EP, description="x")])
        try:
            consumer.update_endpoint_connections_desc(
                UpdateEndpointConnectionsDescRequest(vpc_endpoint_service_id=SERVICE_ID, body=body))
        except ClientRequestException as e:
            expect(e.status_code == 400 and e.error_code == "EndPoint.2003", f"{e.status_code} {e.error_code}")
        else:
            raise AssertionError("a consumer described the provider's connection")

    def consumer_sees_accepted():
        r = consumer.list_endpoints(ListEndpointsRequest(limit=1000))
        expect(r.total_count == 1, f"total_count {r.total_count}")
        expect(r.endpoints[0].id == PENDING_EP and r.endpoints[0].status == "accepted", r.endpoints[0])

    def provider_endpoints():
        r = provider.list_endpoints(ListEndpointsRequest(limit=1000, offset=0))
        expect(r.total_count == 1, f"total_count {r.total_count}")
        expect(r.endpoints[0].status == "failed", r.endpoints[0].status)
        expect(r.endpoints[0].tags[0].key == "team", r.endpoints[0].tags)
        expect(r.endpoints[0].active_status == ["active"], r.endpoints[0].active_status)
        expect(r.endpoints[0].error[0].error_code == "EndPoint.2022", r.endpoints[0].error)

    def iam_assumes_an_agency():
        # GlobalCredentials without a domain id: the SDK finds it with GET /v3/auth/domains.
        credentials = GlobalCredentials(PROVIDER["ak"], PROVIDER["sk"]).with_iam_endpoint(base)
        iam = IamClient.new_builder().with_credentials(credentials) \
            .with_region(Region("cn-north-4", base)).build()
        role = IdentityAssumerole(agency_name="sdk-ops", domain_id=CONSUMER["domain_id"], duration_seconds=900)
        body = CreateTemporaryAccessKeyByAgencyRequestBody(
            auth=AgencyAuth(identity=AgencyAuthIdentity(methods=["assume_role"], assume_role=role)))
        r = iam.create_temporary_access_key_by_agency(CreateTemporaryAccessKeyByAgencyRequest(body=body))
        expect(r.credential.access and r.credential.securitytoken, "no temporary credentials")

    def failed_service():
        r = consumer.list_service_details(ListServiceDetailsRequest(vpc_endpoint_service_id=FAILED_SERVICE))
        expect(r.status == "failed", r.status)
        expect(r.error and r.error[0].code == "EndPoint.2004" and r.error[0].message, r.error)

    def quotas():
        r = provider.list_quota_details(ListQuotaDetailsRequest())
        got = {q.type: (q.used, q.quota) for q in r.quotas.resources}
        expect(got == {"endpoint": (1, 150), "endpoint_service": (1, 20)}, got)
        r = consumer.list_quota_details(ListQuotaDetailsRequest(type="endpoint"))
        expect([(q.type, q.used) for q in r.quotas.resources] == [("endpoint", 1)], r.quotas)

    def delete():
        provider.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=FAILED_EP))
        try:
            provider.list_endpoint_info_details(ListEndpointInfoDetailsRequest(vpc_endpoint_id=FAILED_EP))
        except ClientRequestException as e:
            expect(e.status_code == 404 and e.error_code == "EndPoint.2006", f"{e.status_code} {e.error_code}")
        else:
            raise AssertionError("the deleted endpoint is still there")
        r = provider.list_endpoints(ListEndpointsRequest(limit=1000))
        expect(r.total_count == 0, f"total_count {r.total_count}")

    def versions():
        r = consumer.list_version_details(ListVersionDetailsRequest())
        expect(r.versions[0].id == "v1", r.versions)

    def whitelist():
        entry = "iam:domain::" + CONSUMER["domain_id"]
        body = AddOrRemoveServicePermissionsRequestBody(permissions=[entry], action="add")
        r = provider.add_or_remove_service_permissions(
            AddOrRemoveServicePermissionsRequest(vpc_endpoint_service_id=SERVICE_ID, body=body))
        expect(r.permissions == [entry], r.permissions)
        r = provider.list_service_permissions_details(
            ListServicePermissionsDetailsRequest(vpc_endpoint_service_id=SERVICE_ID, limit=500))
        expect(r.total_count == 1 and r.permissions[0].permission == entry, r.permissions)

    def consumer_creates_endpoint():
        body = CreateEndpointRequestBody(endpoint_service_id=SERVICE_ID, vpc_id="vpc-sdk", subnet_id="subnet-sdk")
        r = consumer.create_endpoint(CreateEndpointRequest(body=body))
        expect(r.status == "pendingAcceptance", r.status)
        conns = provider.list_service_connections(ListServiceConnectionsRequest(
            vpc_endpoint_service_id=SERVICE_ID, id=r.id, limit=1000))
        expect(conns.total_count == 1 and conns.connections[0].domain_id == CONSUMER["domain_id"], conns)

    def wrong_secret_is_refused():
        try:
            client(base, PROVIDER, sk="wrong").list_quota_details(ListQuotaDetailsRequest())
        except ClientRequestException as e:
            expect(e.status_code == 401 and e.error_code == "APIGW.0301", f"{e.status_code} {e.error_code}")
            expect("canonical request" in e.error_msg, e.error_msg)
        else:
            raise AssertionError("a wrong secret key was accepted")

    def organization_tree():
        org = organizations(base, PROVIDER)
        r = org.show_organization(ShowOrganizationRequest())
        expect(r.organization.id == "o-sdk", r.organization)
        expect(r.organization.management_account_id == PROVIDER["domain_id"], r.organization)
        r = org.list_roots(ListRootsRequest(limit=1000))
        expect([x.id for x in r.roots] == ["r-sdk"] and r.page_info.next_marker is None, r)
        r = org.list_organizational_units(ListOrganizationalUnitsRequest(parent_id="ou-sdk", limit=1000))
        expect([(u.id, u.name) for u in r.organizational_units] == [("ou-sdk-eu", "EU")], r)
        r = org.list_accounts(ListAccountsRequest(parent_id="ou-sdk", limit=1000))
        expect([(a.id, a.name) for a in r.accounts] == [(CONSUMER["domain_id"], "sdk-consumer")], r)
        first = org.list_accounts(ListAccountsRequest(limit=1))
        expect(len(first.accounts) == 1 and first.page_info.next_marker, first)
        second = org.list_accounts(ListAccountsRequest(limit=1, marker=first.page_info.next_marker))
        expect(second.accounts[0].id == first.page_info.next_marker, second)
        r = org.show_account(ShowAccountRequest(account_id=EU_ACCOUNT))
        expect(r.account.name == "sdk-eu", r.account)
        r = org.list_entities(ListEntitiesRequest(parent_id="ou-sdk"))
        expect(sorted(e.type for e in r.entities) == ["account", "organizational_unit"], r.entities)

    def member_reading_the_tree_is_refused():
        org = organizations(base, CONSUMER)
        expect(org.show_organization(ShowOrganizationRequest()).organization.id == "o-sdk", "a member reads its organization")
        try:
            org.list_accounts(ListAccountsRequest(limit=1000))
        except ClientRequestException as e:
            expect(e.status_code == 401 and e.error_code == "Organizations.1002", f"{e.status_code} {e.error_code}")
        else:
            raise AssertionError("a plain member listed the organization's accounts")

    def org_path_whitelist_record():
        body = AddOrRemoveServicePermissionsRequestBody(permissions=[ORG_PATH], permission_type="orgPath", action="add")
        r = provider.add_or_remove_service_permissions(
            AddOrRemoveServicePermissionsRequest(vpc_endpoint_service_id=SERVICE_ID, body=body))
        expect(ORG_PATH in r.permissions, r.permissions)
        r = provider.list_service_permissions_details(
            ListServicePermissionsDetailsRequest(vpc_endpoint_service_id=SERVICE_ID, limit=500))
        kinds = {p.permission: p.permission_type for p in r.permissions}
        expect(kinds.get(ORG_PATH) == "orgPath", kinds)

    def temporary_credentials_work():
        temp = client(base, PROVIDER, temporary=TEMPORARY, security_token=TEMPORARY["security_token"])
        r = temp.list_quota_details(ListQuotaDetailsRequest(type="endpoint_service"))
        expect([(q.type, q.used) for q in r.quotas.resources] == [("endpoint_service", 1)], r.quotas)

    def temporary_token_refused(name, token, reason):
        def check():
            temp = client(base, PROVIDER, temporary=TEMPORARY, security_token=token)
            try:
                temp.list_quota_details(ListQuotaDetailsRequest())
            except ClientRequestException as e:
                expect(e.status_code == 401 and e.error_code == "APIGW.0301", f"{e.status_code} {e.error_code}")
                expect(reason in e.error_msg, e.error_msg)
                expect(TEMPORARY["security_token"] not in e.error_msg, "the token is echoed")
            else:
                raise AssertionError(f"temporary credentials with {name} were accepted")
        return check

    for name, fn in [("list services", services), ("describe service", describe),
                     ("list pending connections", pending_connections),
                     ("list connections sorted", all_connections_sorted),
                     ("accept connection", accept), ("accept again is EndPoint.2014", accept_again_is_2014),
                     ("describe a connection", describe_connection),
                     ("consumer describing is refused", consumer_describing_is_refused),
                     ("consumer sees accepted endpoint", consumer_sees_accepted),
                     ("list provider endpoints", provider_endpoints), ("read quotas", quotas),
                     ("a failed service carries its error", failed_service),
                     ("the IAM SDK assumes an agency", iam_assumes_an_agency),
                     ("delete endpoint", delete), ("list versions", versions),
                     ("add and list whitelist records", whitelist),
                     ("consumer creates an endpoint", consumer_creates_endpoint),
                     ("the Organizations SDK reads the tree", organization_tree),
                     ("a plain member reading the tree is refused", member_reading_the_tree_is_refused),
                     ("add an org-path whitelist record", org_path_whitelist_record),
                     ("wrong secret refused", wrong_secret_is_refused),
                     ("temporary credentials with their token", temporary_credentials_work),
                     ("temporary credentials with a wrong token refused",
                      temporary_token_refused("a wrong token", "not-the-security-token", "does not belong")),
                     ("temporary credentials without a token refused",
                      temporary_token_refused("no token", None, "x-security-token not found"))]:
        checks.check(name, fn)
    return checks


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: check_sdk.py PATH_TO_vpcep-emulator")
    with tempfile.TemporaryDirectory() as tmp:
        scenario_path = os.path.join(tmp, "scenario.json")
        with open(scenario_path, "w") as f:
            json.dump(SCENARIO, f)
        log_path = os.path.join(tmp, "emulator.log")
        with open(log_path, "w") as log:
            proc, base = start_emulator(sys.argv[1], scenario_path, log)
            try:
                checks = run_checks(base)
            finally:
                proc.kill()
                proc.wait()
        if checks.failed:
            with open(log_path) as log:
                print("emulator log:\n" + log.read())
    print(f"{checks.passed} passed, {checks.failed} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
