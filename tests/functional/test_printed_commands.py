"""Every command an alert prints works when pasted, and fixes the problem it was printed for.

For each evidence scenario: the real handler scans it and publishes the alert; every `aws`,
`kubectl` and `pullmedic` line of the alert (its text, and the fix commands of its JSON
document) runs as pasted into bash, with the real clients: the aws CLI reaches moto through
AWS_ENDPOINT_URL in the environment, kubectl reaches the simulated cluster through the
kubeconfig that the printed `aws eks update-kubeconfig` line writes. Then a rescan must no
longer prove the problem, except where a fix cannot take effect in the sandbox (ONE_WAY).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.kubeapi import SimulatedCluster
from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import BUNDLED

REPO = Path(__file__).resolve().parents[2]
AWS_CLI = REPO / ".venv-ekstoken" / "bin" / "aws"  # `make test` creates it (eks-token's awscli)
KUBECTL = shutil.which("kubectl")
CLIENTS = ("aws", "kubectl", "pullmedic")
SCENARIOS = sorted(BUNDLED.glob("evidence-*.yaml"))
PLACEHOLDER = re.compile(r"<[a-z][a-z-]*>")  # <nat-gateway-id>, <password>

pytestmark = [
    pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (PATH has none)"),
    pytest.mark.skipif(not AWS_CLI.exists(), reason="no aws CLI: run `make .venv-ekstoken/.installed`"),
]

#: Scenarios whose findings print no aws or kubectl command: the fix is not a command.
NO_COMMAND_FIX = {
    "evidence-registry-confirms-not-found":
        "the tag is missing on Docker Hub: only the image's publisher can push it",
    "evidence-registry-contradicts-not-found":
        "the registry answers 5xx: nothing in the account or cluster to change; wait or mirror",
}

#: Scenarios whose printed commands all work but cannot make the problem go away here.
ONE_WAY = {
    "evidence-arm64-node-amd64-image":
        "the image needs an arm64 build (docker buildx, not run here); the nodeSelector only "
        "helps once an amd64 node exists",
    "evidence-subnet-no-free-ips":
        "prefix delegation and a new CIDR only help new nodes in new subnets, which no command "
        "printed can create",
    "evidence-ecr-other-region":
        "replication copies only images pushed after it is configured: the existing image must "
        "be pushed again",
    "evidence-pause-image-other-region":
        "the pause image is set in the nodes' bootstrap configuration (their launch template): "
        "only new nodes take a new one; the commands grant the pull and show the region's tags",
    "evidence-missing-pull-secret":
        "the FailedToRetrieveImagePullSecret event that proves it stays until the kubelet "
        "retries, and no kubelet runs in the sandbox",
    "evidence-dockerhub-rate-limit":
        "the cache rule cannot be created here (NOT_RUN): the workload then points at a cache "
        "that does not exist, though no evidence of the rate limit is left",
    "evidence-registry-rate-limit-quota":
        "the cache rule cannot be created here (NOT_RUN): the workload then points at a cache "
        "that does not exist, though no evidence of the rate limit is left",
}


#: Printed commands the sandbox cannot serve, by how they start: not run, with the reason.
NOT_RUN = {
    "aws ecr create-pull-through-cache-rule ": "moto has no CreatePullThroughCacheRule",
    "aws ecr describe-images --registry-id 602401143452 ":
        "the EKS registry (account 602401143452) is AWS's own: the sandbox has no copy of it",
}


@dataclass
class Shell:
    """bash with the clients a user has on PATH, pointed at the sandbox by the environment."""

    env: dict[str, str]
    home: Path

    def __call__(self, line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", line], env=self.env, cwd=self.home, capture_output=True,
                              text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


@pytest.fixture
def shell(sandbox: Sandbox, tmp_path: Path) -> Iterator[Shell]:
    """A private HOME and kubeconfig; aws, kubectl, pullmedic and python3 on PATH."""
    assert KUBECTL is not None
    tools = tmp_path / "bin"
    tools.mkdir()
    for name, path in (("aws", AWS_CLI), ("kubectl", Path(KUBECTL)),
                       ("pullmedic", Path(sys.executable).with_name("pullmedic")),
                       ("python3", Path(sys.executable))):
        (tools / name).symlink_to(path)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "KUBE", "PULLMEDIC_"))}
    env.update({k: v for k, v in sandbox.env().items() if k.startswith("AWS_")})
    env.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / ".kube" / "config"),
               PATH=f"{tools}:/usr/bin:/bin", AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
               # what a pull secret's command asks the user to export first
               REGISTRY_USER="ci-puller", REGISTRY_PASSWORD="not-a-real-password",
               DOCKERHUB_USER="ci-puller", DOCKERHUB_TOKEN="not-a-real-token")
    yield Shell(env, tmp_path)


def printed(published: dict[str, Any]) -> list[str]:
    """The command lines of one alert: its text's `$ ` lines, then the JSON's fix commands."""
    message = published["message"]
    lines = [line.split("$ ", 1)[1] for line in message["default"].splitlines() if "$ " in line]
    document = json.loads(message["sqs"])
    lines += [c for f in document["findings"] for c in f["fix_commands"]]
    return list(dict.fromkeys(lines))


def runnable(lines: list[str]) -> list[str]:
    """The lines of the clients a user has (not docker builds), that the sandbox can serve."""
    return [line for line in lines if line.split(" ", 1)[0] in CLIENTS
            and not line.startswith(tuple(NOT_RUN))]


def complete(cluster: SimulatedCluster) -> None:
    """Add what every EKS cluster has and the scenarios leave out (pullmedic does not read it):
    each namespace with its default service account, the Deployment a ReplicaSet names as its
    owner (its template is the pods'), and the VPC CNI's DaemonSet."""
    have = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
            for kind in ("Namespace", "ServiceAccount", "Deployment", "DaemonSet")
            for o in cluster.objects(kind)}
    pods = cluster.objects("Pod")
    added: list[dict[str, Any]] = []
    for namespace in sorted({p["metadata"]["namespace"] for p in pods} | {"kube-system"}):
        added.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        added.append({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "default", "namespace": namespace}})
    template = {"metadata": {"labels": {"k8s-app": "aws-node"}},
                "spec": {"containers": [{"name": "aws-node", "image": "amazon-k8s-cni:v1.19.2"}]}}
    added.append({"apiVersion": "apps/v1", "kind": "DaemonSet",
                  "metadata": {"name": "aws-node", "namespace": "kube-system", "generation": 1},
                  "spec": {"selector": {"matchLabels": {"k8s-app": "aws-node"}},
                           "template": template}})
    for rs in cluster.objects("ReplicaSet"):
        namespace = rs["metadata"]["namespace"]
        owner = next((o["name"] for o in rs["metadata"].get("ownerReferences", [])
                      if o.get("kind") == "Deployment"), None)
        pod = next((p for p in pods if any(o.get("name") == rs["metadata"]["name"]
                                           for o in p["metadata"].get("ownerReferences", []))), None)
        if owner is None or pod is None:
            continue
        labels = {k: v for k, v in rs["metadata"].get("labels", {}).items() if k != "pod-template-hash"}
        spec = {k: v for k, v in pod["spec"].items() if k != "nodeName"}
        added.append({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": owner, "namespace": namespace, "generation": 1,
                                   "labels": labels},
                      "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                               "template": {"metadata": {"labels": labels}, "spec": spec}}})
    cluster.load([o for o in added if (o["kind"], o["metadata"].get("namespace"),
                                       o["metadata"]["name"]) not in have])


def roll_out(cluster: SimulatedCluster) -> None:
    """What the Deployment controller would do after a template change: the pods of the
    Deployment get the template's images and node selector (they stay in their waiting state:
    whether the pull now works is for the rescan's evidence to say)."""
    templates = {(d["metadata"]["namespace"], d["metadata"]["name"]): d["spec"]["template"]["spec"]
                 for d in cluster.objects("Deployment")}
    owners = {(r["metadata"]["namespace"], r["metadata"]["name"]): o["name"]
              for r in cluster.objects("ReplicaSet")
              for o in r["metadata"].get("ownerReferences", []) if o.get("kind") == "Deployment"}
    changed = []
    for pod in cluster.objects("Pod"):
        namespace = pod["metadata"]["namespace"]
        owner = next((o["name"] for o in pod["metadata"].get("ownerReferences", [])
                      if o.get("kind") == "ReplicaSet"), None)
        template = templates.get((namespace, owners.get((namespace, owner or ""), "")))
        if template is None:
            continue
        images = {c["name"]: c["image"] for c in template["containers"]}
        for container in pod["spec"]["containers"]:
            container["image"] = images.get(container["name"], container["image"])
        for status in pod["status"].get("containerStatuses", []):
            status["image"] = images.get(status["name"], status["image"])
        changed.append(pod)
    cluster.load(changed)


def proven(findings: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(workload, container) -> the checks that confirm its cause."""
    return {(f["workload"], f["container"]): {e["check"] for e in f["evidence_items"]
                                              if e["status"] == "confirmed"}
            for f in findings}


def scan_and_alert(sandbox: Sandbox, handler: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    summary = invoke(handler, {})
    assert summary["errors"] == [], summary["errors"]
    (alert,) = sandbox.published()[-1:]
    return summary, alert


def test_the_lists_name_bundled_scenarios_only() -> None:
    names = {p.stem for p in SCENARIOS}
    assert set(NO_COMMAND_FIX) <= names and set(ONE_WAY) <= names
    assert not set(NO_COMMAND_FIX) & set(ONE_WAY)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_printed_commands_work_and_fix(world: Callable[[Path], Any], sandbox: Sandbox, handler: Any,
                                       state_table: Callable[[], str], shell: Shell,
                                       path: Path) -> None:
    scenario = world(path)
    complete(sandbox.clusters[scenario.name])
    state_table()
    before, alert = scan_and_alert(sandbox, handler)
    lines = printed(alert)
    assert not [line for line in lines if PLACEHOLDER.search(line)], "a placeholder fails when pasted"
    fixes = [line for f in before["findings"] for line in runnable(f["fix_commands"])]
    if scenario.name in NO_COMMAND_FIX:
        assert not fixes, f"{scenario.name} prints {fixes}: take it off NO_COMMAND_FIX"
    else:
        assert fixes, (f"{scenario.name} prints no aws or kubectl fix: list it in NO_COMMAND_FIX "
                       "with the reason")
    failed = []
    for line in runnable(lines):
        if line.startswith("pullmedic "):
            continue  # after the rescan: a silence would hide the problem
        done = shell(line)
        if done.returncode != 0:
            failed.append(f"$ {line}\n  exit {done.returncode}: {done.stderr.strip()[-600:]}")
    assert not failed, "printed commands failed when pasted:\n" + "\n".join(failed)
    roll_out(sandbox.clusters[scenario.name])

    after = invoke(handler, {"dry_run": True})
    assert after["errors"] == [], after["errors"]
    was, now = proven(before["findings"]), proven(after["findings"])
    still = {key: checks & now.get(key, set()) for key, checks in was.items() if checks}
    still = {key: checks for key, checks in still.items() if checks}
    skipped = [line for line in lines if line.startswith(tuple(NOT_RUN))]
    if scenario.name in ONE_WAY or scenario.name in NO_COMMAND_FIX:
        assert still or skipped or not fixes, (f"{scenario.name} now resolves: take it off "
                                               f"ONE_WAY ({ONE_WAY.get(scenario.name)})")
    else:
        assert not still, f"after the printed fix, {still} still confirm the problem"

    for line in runnable(lines):
        if line.startswith("pullmedic "):
            done = shell(line)
            assert done.returncode == 0, f"$ {line}\n  exit {done.returncode}: {done.stderr}"
            lift = [x.split("Lift it with: ", 1)[1] for x in done.stdout.splitlines()
                    if x.startswith("Lift it with: ")]
            for again in lift:
                undone = shell(again)
                assert undone.returncode == 0, f"$ {again}\n  exit {undone.returncode}: {undone.stderr}"
