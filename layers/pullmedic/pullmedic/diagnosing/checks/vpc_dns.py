"""DNS resolution is on in the VPC (a name that does not resolve is an unreachable registry)."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict, missing
from pullmedic.diagnosing.checks.facts import NETWORK_READS, Fact, Snapshot, Subject
from pullmedic.reading.gather.ec2 import Host

META = CheckMeta(
    id="vpc_dns", title="The VPC resolves DNS names",
    causes=frozenset({Cause.REGISTRY_UNREACHABLE}), severity="high",
    fix="Turn on DNS support in the VPC (and DNS hostnames, which private endpoints need).",
    command="aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-support '{{\"Value\":true}}'",
    permissions=NETWORK_READS,
    needs=frozenset({Fact.HOST, Fact.DNS_SUPPORT}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for messages that say the name did not resolve."""
    if subject.finding.rule_id != "dns_failure":
        return None
    host = facts.host
    if not isinstance(host, Host):
        return missing(META, host)
    support = facts.dns_support
    if isinstance(support, Unavailable):
        return Verdict.unavailable(META, support.why)
    if support is False:
        return Verdict.confirmed(META, f"VPC {host.vpc_id} has enableDnsSupport=false: nothing in it "
                                       "can resolve the registry's name",
                                 commands=(META.command.format(vpc=host.vpc_id),))
    return Verdict.passed(META, f"VPC {host.vpc_id} resolves DNS (enableDnsSupport=true); check "
                                "the registry name and any custom DHCP option set")
