#!/usr/bin/env python3
"""The official SDK's side of the conformance test (tests/conformance/mod.rs).

Usage: python3 tests/conformance/sdk_calls.py BASE_URL

Makes every call the warden makes, through Huawei's official Python SDKs
(huaweicloudsdkvpcep, huaweicloudsdkiam, huaweicloudsdksmn,
huaweicloudsdkorganizations), against the
recording server at BASE_URL. Before each operation it asks for
`GET /__mark/NAME`, so the server can tell which requests belong to which
operation. The ids and keys are those of tests/conformance/mod.rs. Exits
non-zero, saying what failed, when an SDK is missing or a call fails.
"""

import sys
import urllib.request

try:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
    from huaweicloudsdkcore.region.region import Region
    from huaweicloudsdkiam.v3 import (
        AgencyAuth,
        AgencyAuthIdentity,
        AuthScope,
        AuthScopeDomain,
        AuthScopeProject,
        CreateTemporaryAccessKeyByAgencyRequest,
        CreateTemporaryAccessKeyByAgencyRequestBody,
        IamClient,
        IdentityAssumerole,
        KeystoneCreateUserTokenByPasswordRequest,
        KeystoneCreateUserTokenByPasswordRequestBody,
        PwdAuth,
        PwdIdentity,
        PwdPassword,
        PwdPasswordUser,
        PwdPasswordUserDomain,
    )
    from huaweicloudsdkorganizations.v1 import (
        ListAccountsRequest,
        ListOrganizationalUnitsRequest,
        ListRootsRequest,
        OrganizationsClient,
        ShowOrganizationRequest,
    )
    from huaweicloudsdksmn.v2 import PublishMessageRequest, PublishMessageRequestBody, SmnClient
    from huaweicloudsdkvpcep.v1 import (
        AcceptOrRejectEndpointRequest,
        AcceptOrRejectEndpointRequestBody,
        ConnectionsDesc,
        DeleteEndpointRequest,
        ListEndpointInfoDetailsRequest,
        ListEndpointServiceRequest,
        ListEndpointsRequest,
        ListQuotaDetailsRequest,
        ListServiceConnectionsRequest,
        ListServiceDetailsRequest,
        ListServicePermissionsDetailsRequest,
        UpdateEndpointConnectionsDescRequest,
        UpdateEndpointConnectionsDescRequestBody,
        VpcepClient,
    )
except ImportError as missing:
    sys.exit(f"an official SDK is not installed ({missing}): pip install -r .ci/requirements.txt")

PROJECT = "0605767b5d00d3b22f5cc0137f2fa7e2"
DOMAIN = "0a1b2c3d4e5f4a0b9c8d7e6f5a4b3c21"
AK = "TESTAKEXAMPLE0000001"
SK = "test-sk-must-never-leak-9f3a"
SERVICE = "5133655d-0e28-4090-b669-13f87b355c78"
ENDPOINT = "03184a04-95d5-4555-86c4-e767a371ff99"
TOPIC = f"urn:smn:cn-north-4:{PROJECT}:vpcep-alerts"
AGENCY, AGENCY_DOMAIN = "warden-vpcep", "9f8e7d6c5b4a49380716253443526170"


def mark(base, name):
    urllib.request.urlopen(f"{base}/__mark/{urllib.request.quote(name)}").read()


def vpcep(base):
    credentials = BasicCredentials(AK, SK, PROJECT)
    return VpcepClient.new_builder().with_credentials(credentials).with_endpoints([base]).build()


def iam(base, domain_id=None):
    """An IAM client; without `domain_id` it finds the account at build time
    (the SDK does so for a client built with a region)."""
    credentials = GlobalCredentials(AK, SK, domain_id).with_iam_endpoint(base)
    region = Region("cn-north-4", base)
    return IamClient.new_builder().with_credentials(credentials).with_region(region).build()


def assume(client, duration=3600):
    role = IdentityAssumerole(agency_name=AGENCY, domain_id=AGENCY_DOMAIN, duration_seconds=duration)
    identity = AgencyAuthIdentity(methods=["assume_role"], assume_role=role)
    body = CreateTemporaryAccessKeyByAgencyRequestBody(auth=AgencyAuth(identity=identity))
    client.create_temporary_access_key_by_agency(CreateTemporaryAccessKeyByAgencyRequest(body=body))


def password_token(client, scope):
    user = PwdPasswordUser(name="warden", password="iam-password", domain=PwdPasswordUserDomain(name="acme"))
    identity = PwdIdentity(methods=["password"], password=PwdPassword(user=user))
    body = KeystoneCreateUserTokenByPasswordRequestBody(auth=PwdAuth(identity=identity, scope=scope))
    client.keystone_create_user_token_by_password(KeystoneCreateUserTokenByPasswordRequest(body=body))


def organization(base):
    """The warden's read of the organization: the organization, its roots,
    the root's units, then its accounts, two pages (the recording server
    gives the marker m2 on the first)."""
    credentials = GlobalCredentials(AK, SK, DOMAIN)
    client = OrganizationsClient.new_builder().with_credentials(credentials).with_endpoints([base]).build()
    client.show_organization(ShowOrganizationRequest())
    client.list_roots(ListRootsRequest(limit=1000))
    client.list_organizational_units(ListOrganizationalUnitsRequest(parent_id="r-1", limit=1000))
    client.list_accounts(ListAccountsRequest(parent_id="r-1", limit=1000))
    client.list_accounts(ListAccountsRequest(parent_id="r-1", limit=1000, marker="m2"))


def operations(base):
    """(name, call) in the order of the Rust side's list."""
    v = vpcep(base)
    return [
        # VPCEP
        ("list services", lambda: v.list_endpoint_service(ListEndpointServiceRequest(limit=1000, offset=0))),
        ("get service", lambda: v.list_service_details(ListServiceDetailsRequest(vpc_endpoint_service_id=SERVICE))),
        ("list pending connections", lambda: v.list_service_connections(ListServiceConnectionsRequest(
            vpc_endpoint_service_id=SERVICE, status="pendingAcceptance", limit=1000, offset=0))),
        ("list connections of an endpoint", lambda: v.list_service_connections(ListServiceConnectionsRequest(
            vpc_endpoint_service_id=SERVICE, id=ENDPOINT, limit=1000, offset=0))),
        ("accept a connection", lambda: v.accept_or_reject_endpoint(AcceptOrRejectEndpointRequest(
            vpc_endpoint_service_id=SERVICE,
            body=AcceptOrRejectEndpointRequestBody(action="receive", endpoints=[ENDPOINT])))),
        ("reject a connection", lambda: v.accept_or_reject_endpoint(AcceptOrRejectEndpointRequest(
            vpc_endpoint_service_id=SERVICE,
            body=AcceptOrRejectEndpointRequestBody(action="reject", endpoints=[ENDPOINT])))),
        ("describe connections", lambda: v.update_endpoint_connections_desc(UpdateEndpointConnectionsDescRequest(
            vpc_endpoint_service_id=SERVICE,
            body=UpdateEndpointConnectionsDescRequestBody(
                connections=[ConnectionsDesc(id=ENDPOINT, description="vpcep-warden: accepted")])))),
        ("list whitelist records", lambda: v.list_service_permissions_details(ListServicePermissionsDetailsRequest(
            vpc_endpoint_service_id=SERVICE, limit=500, offset=0))),
        ("list endpoints", lambda: v.list_endpoints(ListEndpointsRequest(limit=1000, offset=0))),
        ("get endpoint", lambda: v.list_endpoint_info_details(ListEndpointInfoDetailsRequest(vpc_endpoint_id=ENDPOINT))),
        ("delete endpoint", lambda: v.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=ENDPOINT))),
        ("read quotas", lambda: v.list_quota_details(ListQuotaDetailsRequest())),
        # IAM: the account found first (GET /v3/auth/domains), then given.
        ("assume agency, account found", lambda: assume(iam(base))),
        ("assume agency, account given", lambda: assume(iam(base, DOMAIN))),
        ("IAM token for VPCEP", lambda: password_token(
            iam(base, DOMAIN), AuthScope(project=AuthScopeProject(id=PROJECT)))),
        ("IAM token for IAM", lambda: password_token(
            iam(base, DOMAIN), AuthScope(domain=AuthScopeDomain(name="acme")))),
        # SMN
        ("publish to SMN", lambda: SmnClient.new_builder()
            .with_credentials(BasicCredentials(AK, SK, PROJECT)).with_endpoints([base]).build()
            .publish_message(PublishMessageRequest(topic_urn=TOPIC, body=PublishMessageRequestBody(
                subject="VPCEP warden warning: 1 alert(s)", message="a test alert")))),
        # Organizations
        ("read the organization", lambda: organization(base)),
    ]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    base = sys.argv[1].rstrip("/")
    for name, call in operations(base):
        mark(base, name)
        try:
            call()
        except Exception as error:  # name the operation, then stop
            sys.exit(f"{name}: the SDK call failed: {error}")


if __name__ == "__main__":
    main()
