"""The local world pullmedic runs against: moto over HTTP and simulated EKS APIs over HTTPS.

Everything binds to 127.0.0.1. The code under test reaches moto only through
`AWS_ENDPOINT_URL`, exactly as it would reach AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.error import URLError
from urllib.request import Request, urlopen

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from pullmedic_sandbox import moto_gaps
from pullmedic_sandbox.aws_seed import Refs, seed, seed_fargate_profiles, substitute
from pullmedic_sandbox.kubeapi import SimulatedCluster
from pullmedic_sandbox.network import BlackHole, route
from pullmedic_sandbox.rbac import Rbac
from pullmedic_sandbox.registry import RegistryFront, fronts, hosts_setting
from pullmedic_sandbox.scenario import Scenario

ACCOUNT = "123456789012"
ACCESS_KEY = "AKIAPULLMEDICSANDBOX"
SECRET_KEY = "pullmedic-sandbox-secret-key"
TOPIC_NAME = "pullmedic-alerts"
QUEUE_NAME = "pullmedic-alerts-reader"
#: moto's reset re-creates every backend it has made (IAM loads its managed policies again for each
#: account), which grows over a session and takes well over 10 s on a busy two-core machine.
RESET_TIMEOUT_SECONDS = float(os.environ.get("PULLMEDIC_SANDBOX_RESET_TIMEOUT", "60"))
RESET_ATTEMPTS = 3
#: Seeding clients wait longer than botocore's 60 s default: a timed-out create that botocore
#: retries could create a resource twice (moto's first IAM call in an account loads every
#: managed policy, seconds on an idle machine).
_PATIENT = Config(connect_timeout=30, read_timeout=180)


class Sandbox:
    """Starts moto once; `load()` seeds a scenario (replacing the previous one)."""

    def __init__(self) -> None:
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""
        self.clusters: dict[str, SimulatedCluster] = {}
        self.region = "us-east-2"
        self.topic_arn = ""
        self.queue_url = ""
        self.refs = Refs()
        self.registry: RegistryFront | None = None  # the scenario's Docker Hub front, if any
        self.registries: dict[str, RegistryFront] = {}  # every front of the scenario, by flavour
        self._kube_delay = 0.0
        self._hole: BlackHole | None = None  # where a dropped connection goes (network.py)

    def set_latency(self, kube: float = 0.0, aws: float = 0.0) -> None:
        """Delay every answer of the simulated clusters by `kube` seconds and of moto by `aws`
        (a network round trip; `make bench`'s latency mode). Clusters loaded later inherit it."""
        self._kube_delay = kube
        for cluster in self.clusters.values():
            cluster.delay = kube
        server = self._moto._server  # werkzeug's server calls its `app` for every request
        assert server is not None, "start() the sandbox first"
        inner = server.app.inner if isinstance(server.app, _Delayed) else server.app
        server.app = _Delayed(inner, aws) if aws else inner

    def start(self) -> None:
        """Start the moto server (about half a second)."""
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        # moto answers APIs it lacks with HTTP 500 and werkzeug prints their tracebacks; the
        # code under test turns those into "unavailable" facts, so keep the output clean.
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        moto_gaps.apply()
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop every server."""
        self._stop_clusters()
        if self._hole is not None:
            self._hole.close()
        self._moto.stop()

    def env(self) -> dict[str, str]:
        """The environment a deployed function would have, pointed at the sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url, "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "PULLMEDIC_TOPIC_ARN": self.topic_arn,
            "PULLMEDIC_CLUSTERS": ",".join(self.clusters), "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "pullmedic",
            # registries are asked only where a scenario has a front, and only the front
            "PULLMEDIC_REGISTRY_PROBE": "on" if self.registry else "off",
            "PULLMEDIC_REGISTRY_HOSTS": hosts_setting(self.registries),
            "PULLMEDIC_REGISTRY_CA": self.registry.ca_file if self.registry else "",
        }

    @contextmanager
    def activated(self) -> Iterator[None]:
        """Set `env()` in os.environ for the duration (restoring what was there)."""
        saved = {k: os.environ.get(k) for k in self.env()}
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(self.env())
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for the sandbox (for seeding and for reading results back)."""
        return boto3.client(service, region_name=region or self.region, endpoint_url=self.endpoint_url,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=_PATIENT)

    def load(self, scenario: Scenario) -> None:
        """Reset AWS and Kubernetes state and seed `scenario` (its AWS resources first).

        `refs` then maps the scenario's symbolic AWS names to real ids; `${name}` in the
        Kubernetes objects is replaced by them before the clusters start.
        """
        self._reset()
        self.region = scenario.region
        self.refs = seed(scenario.aws, self.client, self.region, ACCOUNT)
        objects = {spec.name: substitute(spec.objects, self.refs) for spec in scenario.clusters}
        subnets = self.refs.named("subnet") if "vpc" in scenario.aws else self._network()
        eks = self.client("eks")
        for spec in scenario.clusters:
            cluster = SimulatedCluster(spec.name, _IssuedKeys())
            cluster.delay = self._kube_delay
            cluster.start()
            cluster.load(objects[spec.name])
            if spec.deny:
                cluster.inject(spec.deny)
            cluster.rbac = Rbac(spec.forbid)
            self.clusters[spec.name] = cluster
            account = spec.account or ACCOUNT
            owner = eks if account == ACCOUNT else self.member_client("eks", account)
            owner.create_cluster(name=spec.name, version=spec.version,
                                 roleArn=f"arn:aws:iam::{account}:role/eks-cluster",
                                 resourcesVpcConfig={"subnetIds": subnets})
            self._point_at(spec.name, cluster, account, spec.authentication_mode)
            if spec.endpoint is not None:
                self._route(spec.name, spec.endpoint)
        seed_fargate_profiles(scenario.aws, self.client, self.refs)
        self._alerts()
        if scenario.registry is not None:
            self.registries = fronts(scenario.registry)
            for front in self.registries.values():
                front.start()
            self.registry = self.registries["dockerhub"]

    def member_client(self, service: str, account: str) -> Any:
        """A boto3 client in another sandbox account (moto derives it from the assumed role)."""
        role = f"arn:aws:iam::{account}:role/pullmedic-sandbox-admin"
        keys = self.client("sts").assume_role(RoleArn=role, RoleSessionName="sandbox")["Credentials"]
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint_url,
                            aws_access_key_id=keys["AccessKeyId"],
                            aws_secret_access_key=keys["SecretAccessKey"],
                            aws_session_token=keys["SessionToken"], config=_PATIENT)

    def messages(self) -> list[dict[str, Any]]:
        """SNS notifications delivered to the reader queue so far (each: the SNS envelope)."""
        sqs, found = self.client("sqs"), []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                        MessageAttributeNames=["All"]).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def published(self) -> list[dict[str, Any]]:
        """Every message published to the alert topic, as sent (all protocol variants).

        Read from moto's in-process backend, because no subscriber sees every variant
        (the SQS reader receives the `sqs` one, an email subscriber the `email` one).
        """
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][self.region].topics[self.topic_arn]
        return [{"message_id": mid, "subject": subject, "message": json.loads(message),
                 "attributes": attrs} for mid, message, subject, attrs, _ in topic.sent_notifications]

    def _reset(self) -> None:
        """Stop the clusters and reset moto, retrying a reset that timed out.

        A retry is safe: moto runs resets one at a time (``BackendDict.reset`` holds
        ``backend_lock``), so the retry returns only after the timed-out reset has finished too.
        """
        self._stop_clusters()
        url = f"{self.endpoint_url}/moto-api/reset"
        for _ in range(RESET_ATTEMPTS):
            try:
                urlopen(Request(url, method="POST"), timeout=RESET_TIMEOUT_SECONDS).read()
                return
            except TimeoutError:
                continue
            except URLError as error:
                if not isinstance(error.reason, TimeoutError):
                    raise
        raise SandboxTimeout(
            f"moto did not reset within {RESET_ATTEMPTS} x {RESET_TIMEOUT_SECONDS:g} s ({url}):"
            " the machine is overloaded; run fewer tests in parallel or raise"
            " PULLMEDIC_SANDBOX_RESET_TIMEOUT (seconds)"
        )

    def _stop_clusters(self) -> None:
        for cluster in self.clusters.values():
            cluster.stop()
        self.clusters = {}
        for front in self.registries.values():
            front.stop()
        self.registries, self.registry = {}, None

    def _network(self) -> list[str]:
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        return [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"]
                for i in (1, 2)]

    def _point_at(self, name: str, cluster: SimulatedCluster, account: str = ACCOUNT,
                  authentication_mode: str = "API_AND_CONFIG_MAP") -> None:
        """moto invents an endpoint and CA; make them the simulated API server's. moto has no
        access configuration: set the one the scenario names (describe-cluster shows it)."""
        from moto.eks.models import eks_backends

        record = eks_backends[account][self.region].clusters[name]
        record.endpoint = cluster.endpoint
        record.certificate_authority = {"data": base64.b64encode(cluster.ca_pem).decode()}
        record.access_config = {"authenticationMode": authentication_mode}

    def _route(self, name: str, spec: dict[str, Any]) -> None:
        """The endpoint's access settings; describe-cluster then answers the address the function
        reaches from its subnets (the black hole when the network would drop it)."""
        from moto.eks.models import eks_backends

        if self._hole is None:
            self._hole = BlackHole()
        record = eks_backends[ACCOUNT][self.region].clusters[name]
        subnets = [self.refs.of("subnet", s) for s in spec.get("subnets") or []] or \
            record.resources_vpc_config["subnetIds"]
        vpc = self.client("ec2").describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
        group = spec.get("security_group")
        record.resources_vpc_config = {
            **record.resources_vpc_config, "subnetIds": subnets, "vpcId": vpc,
            "endpointPublicAccess": bool(spec.get("public", True)),
            "endpointPrivateAccess": bool(spec.get("private", False)),
            "publicAccessCidrs": list(spec.get("cidrs") or ["0.0.0.0/0"]),
            **({"clusterSecurityGroupId": self.refs.of("sg", group)} if group else {})}
        route(record, self._hole, self.client)

    def _alerts(self) -> None:
        sns, sqs = self.client("sns"), self.client("sqs")
        self.topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
        self.queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs",
                      Endpoint=queue_arn["Attributes"]["QueueArn"])


class SandboxTimeout(RuntimeError):
    """The sandbox's own servers did not answer in time, with what to do about it."""
class _Delayed:
    """A WSGI app that answers `seconds` later than `inner` does."""

    def __init__(self, inner: Any, seconds: float) -> None:
        self.inner, self.seconds = inner, seconds

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        time.sleep(self.seconds)
        return self.inner(environ, start_response)


class _IssuedKeys(Mapping[str, str]):
    """The secret keys AWS would accept: the sandbox's own and every key moto issued (users'
    and AssumeRole's), read when a token is checked so that keys issued later count too."""

    def __getitem__(self, key: str) -> str:
        if key == ACCESS_KEY:
            return SECRET_KEY
        for issued in self._temporary():
            if issued.access_key_id == key:
                return issued.secret_access_key
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield ACCESS_KEY
        yield from (issued.access_key_id for issued in self._temporary())

    def __len__(self) -> int:
        return 1 + len(self._temporary())

    @staticmethod
    def _temporary() -> list[Any]:
        from moto.iam.models import iam_backends

        return [key for account in list(iam_backends.values())
                for key in list(account["aws"].access_keys.values())]
