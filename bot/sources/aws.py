"""AWS partitions: which DNS suffix an account's registry host and SNS endpoint carry in
each region.

The table is AWS's own partition data (`botocore/data/partitions.json`, botocore 1.43,
the same file every AWS SDK ships): a partition id, the regex its region names match, and
its DNS suffix. An ECR registry is `<account>.dkr.ecr.<region>.<dnsSuffix>` in every
partition (`…amazonaws.com` in aws and aws-us-gov, `…amazonaws.com.cn` in aws-cn,
`…c2s.ic.gov` in aws-iso, `…sc2s.sgov.gov` in aws-iso-b, `…cloud.adc-e.uk` in aws-iso-e,
`…csp.hci.ic.gov` in aws-iso-f, `…amazonaws.eu` in aws-eusc)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Partition:
    id: str
    regions: re.Pattern[str]
    dns_suffix: str


PARTITIONS = (
    Partition("aws", re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$"), "amazonaws.com"),
    Partition("aws-cn", re.compile(r"^cn-\w+-\d+$"), "amazonaws.com.cn"),
    Partition("aws-us-gov", re.compile(r"^us-gov-\w+-\d+$"), "amazonaws.com"),
    Partition("aws-iso", re.compile(r"^us-iso-\w+-\d+$"), "c2s.ic.gov"),
    Partition("aws-iso-b", re.compile(r"^us-isob-\w+-\d+$"), "sc2s.sgov.gov"),
    Partition("aws-iso-e", re.compile(r"^eu-isoe-\w+-\d+$"), "cloud.adc-e.uk"),
    Partition("aws-iso-f", re.compile(r"^us-isof-\w+-\d+$"), "csp.hci.ic.gov"),
    Partition("aws-eusc", re.compile(r"^eusc-(de)-\w+-\d+$"), "amazonaws.eu"),
)
BY_ID = {p.id: p for p in PARTITIONS}
# `\w` has no `-`, so the regexes are disjoint: `us-gov-west-1` is not an `aws` region.
_ARN = re.compile(r"^arn:(?P<partition>[a-z0-9-]+):")
_REGION = re.compile(r"^[a-z]{2,4}(-[a-z0-9]+)+-\d+$")


def partition_of(region: str, arns: object = ()) -> Partition | None:
    """The partition of an event: named by an ARN among `arns` (EventBridge `resources`),
    else the one whose region regex matches, else None for a malformed region. A
    well-formed region no partition knows yet falls in `aws`, as the SDKs resolve it."""
    for arn in arns if isinstance(arns, list) else ():
        match = _ARN.match(arn) if isinstance(arn, str) else None
        if match and match["partition"] in BY_ID:
            return BY_ID[match["partition"]]
    if not _REGION.match(region):
        return None
    return next((p for p in PARTITIONS if p.regions.match(region)), BY_ID["aws"])


def ecr_registry(account: str, region: str, arns: object = ()) -> str | None:
    """`<account>.dkr.ecr.<region>.<dnsSuffix>`, or None when account or region is not one
    (a 12-digit account id; a region name as AWS writes them)."""
    partition = partition_of(region, arns)
    if partition is None or not re.fullmatch(r"\d{12}", account):
        return None
    return f"{account}.dkr.ecr.{region}.{partition.dns_suffix}"


def is_sns_confirmation_url(url: str) -> bool:
    """True for `https://sns.<region>.<dnsSuffix>/?Action=ConfirmSubscription&…` where the
    suffix is the region's own partition's: Hoist follows only those (it is a GET to a URL
    taken from a request body)."""
    match = re.match(r"^https://sns\.([a-z0-9-]+)\.([a-z0-9.-]+)/\?Action=ConfirmSubscription&",
                     url)
    if not match:
        return False
    partition = partition_of(match[1])
    return partition is not None and partition.dns_suffix == match[2]
