"""The S3 prefix list (the layers hop's destination) is read with its CIDRs, also where
DescribePrefixLists leaves them out (moto): then from GetManagedPrefixListEntries."""

from __future__ import annotations

from pullmedic.reading.gather.ec2 import Ec2Reader, PrefixList


def test_the_s3_prefix_list_comes_with_its_ranges_once_per_scan(sandbox) -> None:
    ec2 = sandbox.client("ec2")
    assert not ec2.describe_prefix_lists()["PrefixLists"][0].get("Cidrs")  # moto's gap
    reader = Ec2Reader(ec2)
    found = reader.prefix_list_named("com.amazonaws.us-east-2.s3")
    assert isinstance(found, PrefixList) and found.id.startswith("pl-")
    assert "52.216.0.0/15" in found.cidrs
    assert reader.prefix_list_named("com.amazonaws.us-east-2.s3") is found
    assert reader.prefix_list_named("com.amazonaws.us-east-2.no-such-service") is None
