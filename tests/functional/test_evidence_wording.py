"""Evidence about what could not be read says so plainly, against the sandbox's AWS."""

from __future__ import annotations

from factories import finding

from pullmedic.core.causes import Cause
from pullmedic.core.model import PodInfo, Workload
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.evidence import Facts, Readers, subject_of
from pullmedic.reading.aws.eks import ClusterAccess


def test_a_pod_without_a_host_ip_is_described_plainly(world, sandbox) -> None:
    """A pod the kubelet has not given a host IP yet: the evidence names its node, no "(None)"."""
    world("healthy")
    pod = PodInfo("shop", "api-1", "uid", None, "ip-10-0-0-9.ec2.internal", None, None, {}, None, None,
                  "default", ())
    found = finding("api", workload=Workload("Pod", "api-1"), image="nginx:1", cause=Cause.AUTH_FAILED,
                    pods=("api-1",), nodes=(), pod_sample=pod)
    access = ClusterAccess("prod", sandbox.region, f"arn:aws:eks:{sandbox.region}:123456789012:cluster/prod",
                           "https://127.0.0.1", "", None, "ACTIVE")
    facts = Facts(Readers(sandbox.client), access, None)
    facts.prepare([found])
    assert facts.host(subject_of(found)) == Unavailable(
        "no EC2 instance found for node ip-10-0-0-9.ec2.internal")
