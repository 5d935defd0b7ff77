"""Email text, JSON documents and their schema files, console links, chat notification, subject
and attributes of announcements."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from factories import ecr_finding as finding

from pullmedic.announcing.chat import CHAT_SCHEMA, DESCRIPTION_MAX, THREAD_MAX, notification
from pullmedic.announcing.render import (
    DOCUMENT_SCHEMA,
    SCHEMAS,
    WIDTH,
    Announcement,
    attributes,
    document,
    finding_doc,
    load_schema,
    silence_event,
    subject,
    text,
)
from pullmedic.core import codec
from pullmedic.core.causes import Cause
from pullmedic.core.console import links, resources
from pullmedic.core.model import Finding, Remediation, ScanError
from pullmedic.core.unavailable import guarded
from pullmedic.diagnosing.findings import SEVERITY_ORDER, fingerprint

SINCE = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
VALIDATOR = jsonschema.Draft202012Validator


def validate(instance: object, schema: dict) -> None:
    VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER).validate(instance)


def test_schemas_are_valid_json_schemas() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == ["explain.json", "findings.json", "summary.json"]
    for path in SCHEMAS.glob("*.json"):
        VALIDATOR.check_schema(json.loads(path.read_text()))
    assert load_schema("findings") == DOCUMENT_SCHEMA
    VALIDATOR.check_schema(CHAT_SCHEMA)


def test_schema_files_name_what_the_code_knows() -> None:
    """The enums of the files are the code's causes and severities; the summary describes a finding
    exactly as the SNS document does."""
    findings, summary = load_schema("findings"), load_schema("summary")
    properties = findings["$defs"]["finding"]["properties"]
    assert properties["cause"]["enum"] == [c.value for c in Cause]
    assert properties["severity"]["enum"] == list(SEVERITY_ORDER)
    assert summary["$defs"] == findings["$defs"]
    required = set(findings["$defs"]["finding"]["required"])
    assert set(finding_doc(finding()).keys()) == set(properties) == required
    assert load_schema("explain")["oneOf"][0]["properties"]["cause"]["enum"] == [c.value for c in Cause]


def test_document_carries_each_event_and_matches_its_schema() -> None:
    items = [Announcement("new", finding("api"), SINCE),
             Announcement("changed", finding("web", cause=Cause.AUTH_FAILED), SINCE, "image_not_found"),
             Announcement("resolved", finding("old"), SINCE)]
    doc = document(items, [ScanError("dev", "token", "cannot mint an EKS token")], ["prod"], 2)
    validate(doc, DOCUMENT_SCHEMA)
    assert doc["schema"] == "pullmedic.findings/v3" and doc["omitted_findings"] == 2
    assert [(f["event"], f["previous_cause"]) for f in doc["findings"]] == [
        ("new", None), ("changed", "image_not_found"), ("resolved", None)]
    assert doc["findings"][0]["first_seen"] == "2026-11-27T12:00:00Z"
    first = doc["findings"][0]
    assert (first["account"], first["region"]) == ("123456789012", "us-east-1")
    assert first["evidence_items"][0] == {
        "check": "ecr_pull_permission", "status": "passed",
        "text": "role arn:aws:iam::123456789012:role/nodes may pull",
        "resources": ["arn:aws:iam::123456789012:role/nodes"]}
    for broken in ({**first, "event": "open"}, {**first, "surprise": 1},
                   {**first, "evidence_items": [{"check": "x", "status": "maybe", "text": "",
                                                 "resources": []}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate({**doc, "findings": [broken]}, DOCUMENT_SCHEMA)


def test_outbox_codec_keeps_the_new_fields_and_reads_findings_stored_before_them() -> None:
    original = finding()
    assert codec.loads(Finding, codec.dumps(original)) == original
    stored = codec.encode(original)
    for name in ("evidence_items", "account", "region"):
        del stored[name]
    older = codec.decode(Finding, stored)
    assert (older.evidence_items, older.account, older.region) == ((), None, None)
    assert "Evidence:  ok [ecr_pull_permission]" in text([Announcement("new", older)], [])


def test_email_text_says_event_where_why_fix_and_how_to_silence() -> None:
    f = finding()
    body = text([Announcement("reminder", f, SINCE)], [], cli_flags="--table state --region us-east-1")
    fp = fingerprint(f)
    assert body.startswith("pullmedic: 1 image pull problem(s) to report (1 reminder), account "
                           "123456789012, Region us-east-1.\n")
    assert "\n#1 REMINDER high image_not_found: prod/shop/Deployment/api\n" in body
    assert "1. REMINDER [HIGH] image_not_found - prod/shop/Deployment/api" in body
    assert "3 pod(s) failing since 2026-11-27 12:00 UTC" in " ".join(body.split())
    assert "Evidence:  confirmed [ecr_image_exists]: api has no tag v9" in body  # the decisive line
    assert "(confidence: confirmed)" in body and "(+1 more in the JSON)" in " ".join(body.split())
    assert "Fix:       Push the tag" in body
    assert "     $ kubectl -n shop set image deployment/api" in body
    assert (f'   Silence:   $ pullmedic silence --fingerprint {fp} --hours 24 --reason "why" --table state '
            "--region us-east-1\n") in body
    assert body.count("pullmedic silence") == 1 and body.count(silence_event(fp)) == 1
    assert json.loads(silence_event(fp)) == {"silence": {"fingerprint": fp, "hours": 24,
                                                         "reason": "why"}}
    resolved = text([Announcement("resolved", f, SINCE)], [])
    assert "RESOLVED [HIGH]" in resolved and "Silence" not in resolved and "Fix:" not in resolved


def test_email_is_short_on_a_phone() -> None:
    """Five problems with kilobyte messages: a list at the top, long messages cut (whole in the
    JSON), prose wrapped at WIDTH, one silence line each."""
    items = [Announcement("new", finding(f"w{i}", message="rpc error: " + "lorem ipsum " * 100), SINCE)
             for i in range(5)]
    body = text(items, [ScanError("dev", "token", "cannot mint an EKS token: " + "x " * 200)])
    lines = body.splitlines()
    assert lines[1].startswith("EKS cluster prod: https://console.aws.amazon.com/eks/")
    assert lines[2].startswith("Kube context: $ aws eks update-kubeconfig --name prod --region ")
    assert lines[4:9] == [f"#{i + 1} NEW high image_not_found: prod/shop/Deployment/w{i}" for i in range(5)]
    prose = [line for line in lines if not line.lstrip().startswith("$") and "https://" not in line]
    assert max(len(line) for line in prose) <= WIDTH
    assert body.count("pullmedic silence --fingerprint") == 5 and "lorem ipsum " * 20 not in body
    blocks = body.split("\n\n")[2:7]
    assert [block[:6] for block in blocks] == ["1. NEW", "2. NEW", "3. NEW", "4. NEW", "5. NEW"]
    assert max(len(block.splitlines()) for block in blocks) <= 13
    assert "Message:   …lorem ipsum lorem" in body  # the end of a message says most
    doc = document(items, [], ["prod"])
    assert doc["findings"][0]["message"] == items[0].finding.message


def test_email_links_the_console_for_the_resources_named() -> None:
    f = finding(cluster="111122223333/eu-west-1/prod")
    f = Finding(**{**f.__dict__, "region": "eu-west-1", "evidence": (
        "contradicts the message [sg_egress]: sg-0123456789abcdef0 allows no egress on 443 "
        "(subnet subnet-0aa11bb22cc33dd44, route table rtb-0a1b2c3d, network ACL acl-0f0e0d0c)",)})
    body = text([Announcement("new", f)], [])
    assert "EKS cluster prod: https://console.aws.amazon.com/eks/home?region=eu-west-1#/clusters/prod" in body
    assert ("security group sg-0123456789abcdef0: https://console.aws.amazon.com/ec2/home?region=eu-west-1"
            "#SecurityGroup:groupId=sg-0123456789abcdef0") in body
    assert "#SubnetDetails:subnetId=subnet-0aa11bb22cc33dd44" in body
    assert "#RouteTableDetails:routeTableId=rtb-0a1b2c3d" in body
    assert "#NetworkAclDetails:networkAclId=acl-0f0e0d0c" in body
    assert ("ECR repository api: https://console.aws.amazon.com/ecr/repositories/private/123456789012/api"
            "?region=us-east-1") in body  # the repository's own Region
    unknown = text([Announcement("new", Finding(**{**f.__dict__, "region": None}))], [])
    assert "https://" not in unknown


def test_wrapping_never_splits_a_secret_from_what_marks_it() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9payloadsignature"
    for pad in range(60, 100, 3):  # "Bearer" lands at the end of a wrapped line for one of these
        f = finding(message=f"{'x ' * (pad // 2)}Authorization: Bearer {token} rejected")
        assert token not in text([Announcement("new", f)], []), pad


def test_problems_of_several_accounts_say_each_its_own() -> None:
    home = finding("api")
    member = Finding(**{**finding("worker").__dict__, "cluster": "210987654321/eu-west-1/prod",
                        "account": "210987654321", "region": "eu-west-1"})
    body = text([Announcement("new", home), Announcement("new", member)], [])
    assert body.startswith("pullmedic: 2 image pull problem(s) to report (2 new).\n")
    assert "   Where:     account 123456789012, Region us-east-1\n" in body
    assert "   Where:     account 210987654321, Region eu-west-1\n" in body
    assert "EKS cluster prod: https://console.aws.amazon.com/eks/home?region=eu-west-1#/clusters/prod" in body
    assert "EKS cluster prod: https://console.aws.amazon.com/eks/home?region=us-east-1#/clusters/prod" in body


def test_console_links_follow_the_partition() -> None:
    role = "arn:aws-cn:iam::123456789012:role/eks-nodes"
    assert resources(f"role {role} may not pull 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1") == (
        role, "123456789012.dkr.ecr.cn-north-1.amazonaws.com/app")
    found = dict(links("prod", "cn-north-1", [f"role {role}", "sg-0123456789abcdef0"]))
    assert found["EKS cluster prod"].startswith("https://console.amazonaws.cn/eks/")
    assert found["IAM role eks-nodes"] == "https://console.amazonaws.cn/iam/home#/roles/details/eks-nodes"
    gov = dict(links("prod", "us-gov-west-1", ["subnet-0aa11bb22cc33dd44"]))
    assert gov["subnet subnet-0aa11bb22cc33dd44"].startswith("https://console.amazonaws-us-gov.com/vpcconsole/")
    assert links("prod", "not a region", ["sg-0123456789abcdef0"]) == []


def test_an_endpoint_that_cannot_answer_reads_as_a_plain_fact() -> None:
    """Not the endpoint's internals: what could not be asked, and why."""
    def html() -> None:
        raise ClientError({"Error": {"Code": "500", "Message": "<html>oops</html>"},
                           "ResponseMetadata": {"HTTPStatusCode": 500}}, "SimulatePrincipalPolicy")

    def garbage() -> None:
        raise ResponseParserError("Unable to parse response")

    assert guarded("iam:SimulatePrincipalPolicy", html).why == (
        "could not call iam:SimulatePrincipalPolicy: not supported by this endpoint (HTTP 500)")
    assert guarded("iam:SimulatePrincipalPolicy", garbage).why == (
        "could not call iam:SimulatePrincipalPolicy: not supported by this endpoint")


def test_a_fix_applied_shows_what_it_did_and_how_to_undo_it() -> None:
    fix = Remediation("grant_ecr_pull", "verified: the problem resolved", "alice",
                      ("aws iam detach-role-policy",))
    body = text([Announcement("remediated", finding(), SINCE, remediation=fix)], [])
    assert "Action:    grant_ecr_pull (approved by alice): verified" in body
    assert "   Undo:      $ aws iam detach-role-policy" in body and "Silence" not in body


def test_subject_is_short_ascii_with_event_counts() -> None:
    items = [Announcement("new", finding(f"w{i}", cluster="prod-é", cause=cause))
             for i, cause in enumerate(Cause)] + [Announcement("resolved", finding("gone", cluster="prod-é"))]
    line = subject(items, [])
    assert line.isascii() and len(line) < 100 and "\n" not in line
    assert line.startswith(f"pullmedic: {len(Cause)} new, 1 resolved image pull problems in prod-?:")
    assert subject([], [ScanError("locked", "pods", "401")]) == (
        "pullmedic: 1 cluster(s) could not be scanned in locked")


def test_attributes_name_events_for_filter_policies() -> None:
    items = [Announcement("resolved", finding("a")),
             Announcement("new", finding("b", cluster="dev", cause=Cause.RATE_LIMITED, severity="medium"))]
    attrs = {k: v["StringValue"] for k, v in attributes(items, [ScanError("x", "pods", "no")]).items()}
    assert json.loads(attrs["event"]) == ["new", "resolved", "scan_error"]
    assert json.loads(attrs["cluster"]) == ["dev", "prod", "x"]
    assert json.loads(attrs["causes"]) == ["image_not_found", "rate_limited"]
    assert attrs["severity"] == "high"


@pytest.mark.parametrize("count", [1, 3, 60])
def test_chat_notification_matches_the_documented_format(count: int) -> None:
    items = [Announcement("new" if i % 2 else "resolved", finding(f"w{i}", message="x" * 2000))
             for i in range(count)]
    body = notification(items, [ScanError("dev", "token", "expired")], omitted=7)
    validate(body, CHAT_SCHEMA)
    assert (body["version"], body["source"], body["content"]["textType"]) == (
        "1.0", "custom", "client-markdown")
    description = body["content"]["description"]
    shown = description.count("`image_not_found` prod/shop/Deployment/")
    if shown < count:
        assert f"…and {count - shown + 7} more problem(s)" in description
    else:
        assert "…and 7 more problem(s)" in description
    assert "**Could not scan** dev (token)" in description


def test_chat_threads_by_workload_and_names_next_steps() -> None:
    one = notification([Announcement("new", finding())], [])
    assert one["metadata"]["threadId"] == "prod/shop/Deployment/api"
    assert one["content"]["title"] == "NEW: image_not_found in prod/shop/Deployment/api"
    assert one["content"]["nextSteps"] == [  # the kubectl fix's context first
        "aws eks update-kubeconfig --name prod --region us-east-1", *finding().fix_commands]
    assert one["metadata"]["eventType"] == "pullmedic-new"
    assert {k: one["metadata"]["additionalContext"][k] for k in ("account", "region")} == {
        "account": "123456789012", "region": "us-east-1"}
    two = notification([Announcement("new", finding("a")), Announcement("new", finding("b"))], [])
    assert two["metadata"]["threadId"] == "prod/shop/Deployment"
    long = notification([Announcement("new", finding("n" * 250))], [])
    assert len(long["metadata"]["threadId"]) <= THREAD_MAX
    validate(long, CHAT_SCHEMA)


def test_chat_rejects_what_the_service_would_drop() -> None:
    body = notification([Announcement("new", finding())], [])
    for broken in ({**body, "version": "2.0"}, {**body, "source": "pullmedic"},
                   {**body, "content": {**body["content"], "description": "d" * (DESCRIPTION_MAX + 1)}},
                   {**body, "content": {"title": "no description"}}):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken, CHAT_SCHEMA)
