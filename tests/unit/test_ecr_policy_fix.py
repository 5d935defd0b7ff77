"""The cross-account fix adds the pull statement to the repository policy, never replaces it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from pullmedic.core.imageref import ImageRef, parse_image
from pullmedic.diagnosing.checks import ecr_repository_policy

ROLE = "arn:aws:iam::444455556666:role/node"


@dataclass
class Subject:
    image: ImageRef


def fix(merge: bool) -> str:
    image = parse_image("111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1")
    assert isinstance(image, ImageRef)
    verdict = ecr_repository_policy._fix(ecr_repository_policy.META, Subject(image), ROLE,  # type: ignore[arg-type]
                                         "evidence", merge=merge)
    (command,) = verdict.commands
    return command


def test_with_a_policy_in_place_the_command_merges_it() -> None:
    command = fix(merge=True)
    read, rest = command.split(" | ", 1)
    assert read.startswith("aws ecr get-repository-policy ") and "--region us-east-1" in read
    assert rest.endswith("--policy-text file://pullmedic-ecr-policy.json")
    merge = rest.split(" > ")[0].replace("python3", sys.executable, 1)
    current = {"Version": "2012-10-17", "Statement": [
        {"Sid": "CiPush", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:role/ci"},
         "Action": "ecr:*"}, {"Sid": "PullFromEks", "Effect": "Allow", "Principal": {"AWS": "old"}}]}
    done = subprocess.run(["bash", "-c", merge], input=json.dumps(current), capture_output=True,
                          text=True, check=True)
    merged = json.loads(done.stdout)["Statement"]
    assert [s["Sid"] for s in merged] == ["CiPush", "PullFromEks"]  # the CI grant survives
    assert merged[1]["Principal"] == {"AWS": ROLE}


def test_a_failed_read_writes_nothing() -> None:
    merge = fix(merge=True).split(" | ", 1)[1].split(" && ")[0].replace(" > pullmedic-ecr-policy.json", "")
    failed = subprocess.run(["bash", "-c", "false | " + merge.replace("python3", sys.executable, 1)],
                            capture_output=True, text=True)
    assert failed.returncode != 0 and failed.stdout == ""  # the chain stops before set-repository-policy


def test_without_a_policy_the_statement_is_the_policy() -> None:
    command = fix(merge=False)
    assert command.startswith("aws ecr set-repository-policy ") and ROLE in command
