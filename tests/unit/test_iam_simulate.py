"""IamReader.simulate reads per-resource decisions from both answer shapes of the simulator.

moto has no SimulatePrincipalPolicy, so the answers are given to a real boto3 client with
botocore's Stubber, which checks requests and answers against the IAM API model.
"""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from pullmedic.core.unavailable import Unavailable
from pullmedic.reading.gather.iam import IamReader

ROLE = "arn:aws:iam::123456789012:role/node-role"
REPOS = tuple(f"arn:aws:ecr:us-east-2:123456789012:repository/shop/svc-{n}" for n in (1, 2))
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def _reader(*answers: dict) -> tuple[IamReader, Stubber]:
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stubber = Stubber(client)
    for answer in answers:
        stubber.add_response("simulate_principal_policy", answer, {
            "PolicySourceArn": ROLE, "ActionNames": list(PULL), "ResourceArns": sorted(REPOS)})
    stubber.activate()
    return IamReader(client), stubber


def test_one_request_answers_every_action_on_every_repository() -> None:
    # Today's shape: one result per action, the decision per resource in ResourceSpecificResults.
    reader, stubber = _reader({"EvaluationResults": [{
        "EvalActionName": action, "EvalResourceName": "*", "EvalDecision": "implicitDeny",
        "ResourceSpecificResults": [
            {"EvalResourceName": REPOS[0], "EvalResourceDecision": "allowed"},
            {"EvalResourceName": REPOS[1], "EvalResourceDecision": "implicitDeny"}]}
        for action in PULL]})

    first = reader.simulate(ROLE, PULL, REPOS)
    again = reader.simulate(ROLE, PULL, tuple(reversed(REPOS)))

    assert first == again == {(a, r): "allowed" if r == REPOS[0] else "implicitDeny"
                              for a in PULL for r in REPOS}
    stubber.assert_no_pending_responses()  # one request, then the cache


def test_the_older_shape_one_result_per_resource_is_read_too() -> None:
    reader, _ = _reader({"EvaluationResults": [
        {"EvalActionName": a, "EvalResourceName": r,
         "EvalDecision": "explicitDeny" if r == REPOS[1] else "allowed"} for a in PULL for r in REPOS]})

    decisions = reader.simulate(ROLE, PULL, REPOS)

    assert not isinstance(decisions, Unavailable)
    assert decisions[(PULL[0], REPOS[1])] == "explicitDeny" and decisions[(PULL[1], REPOS[0])] == "allowed"
