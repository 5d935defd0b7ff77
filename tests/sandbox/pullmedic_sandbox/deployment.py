"""The deployed parts of pullmedic in the sandbox: the function's role, subscriptions of the alert
topic, the cluster's endpoint settings. moto cannot model some of them (an e-mail that awaits
confirmation, an endpoint's access settings); those are set in its backend, as AWS would show them.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable

from pullmedic_sandbox.sandbox import ACCOUNT, Sandbox

FUNCTION_ROLE = "pullmedic-scan"


def function_role(sandbox: Sandbox, allowed: Iterable[str]) -> dict[str, str]:
    """Create the function's role allowing `allowed` (on any resource), assume it, and return the
    environment a Lambda function running as it has (its temporary credentials)."""
    iam = sandbox.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = iam.create_role(RoleName=FUNCTION_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Allowed", "Effect": "Allow", "Action": sorted(allowed), "Resource": "*"}]}
    iam.put_role_policy(RoleName=FUNCTION_ROLE, PolicyName="read-for-diagnosis",
                        PolicyDocument=json.dumps(policy))
    keys = sandbox.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="pullmedic-scan")
    credentials = keys["Credentials"]
    return {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_LAMBDA_FUNCTION_NAME": "pullmedic-ScanFunction-sandbox"}


def subscribe_email(sandbox: Sandbox, address: str, *, confirmed: bool) -> str:
    """Subscribe `address` to the alert topic; unless `confirmed`, it awaits confirmation as an
    e-mail does until its link is clicked (moto confirms every subscription at once)."""
    from moto.sns.models import sns_backends

    arn = sandbox.client("sns").subscribe(TopicArn=sandbox.topic_arn, Protocol="email", Endpoint=address,
                                          ReturnSubscriptionArn=True)["SubscriptionArn"]
    if not confirmed:
        sns_backends[ACCOUNT][sandbox.region].subscriptions[arn].attributes["PendingConfirmation"] = "true"
    return arn


def scan_function(sandbox: Sandbox, subnets: list[str], security_groups: list[str],
                  environment: dict[str, str]) -> str:
    """The deployed scan function, running as FUNCTION_ROLE in `subnets` with the `environment`
    the stack gives it (it is never invoked)."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
    role = f"arn:aws:iam::{ACCOUNT}:role/{FUNCTION_ROLE}"
    return sandbox.client("lambda").create_function(
        FunctionName="pullmedic-ScanFunction-sandbox", Runtime="python3.12", Role=role,
        Handler="app.lambda_handler", Code={"ZipFile": code.getvalue()},
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": security_groups},
        Environment={"Variables": environment})["FunctionName"]


def endpoint_access(sandbox: Sandbox, cluster: str, *, public: bool = True, private: bool = False,
                    cidrs: tuple[str, ...] = ("0.0.0.0/0",), vpc_id: str | None = None,
                    security_group: str | None = None) -> None:
    """The cluster endpoint's access settings (and VPC, cluster security group) as describe-cluster
    shows them (moto keeps only the subnets it was given)."""
    from moto.eks.models import eks_backends

    record = eks_backends[ACCOUNT][sandbox.region].clusters[cluster]
    extra = {k: v for k, v in (("vpcId", vpc_id), ("clusterSecurityGroupId", security_group)) if v}
    record.resources_vpc_config = {**record.resources_vpc_config, "endpointPublicAccess": public,
                                   "endpointPrivateAccess": private, "publicAccessCidrs": list(cidrs),
                                   **extra}
