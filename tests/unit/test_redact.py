"""Secrets never survive redaction."""

from __future__ import annotations

import pytest

from pullmedic.core.redact import redact

SECRETS = ["EXAMPLESIGNATURE0123456789abcdef", "FwoGZXIvYXdzEXAMPLETOKEN", "hunter2pass",
           "eyJhbGciOiJSUzI1NiIsImtpZCI6IkV4YW1wbGUifQ", "aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8"]


@pytest.mark.parametrize("text", [
    "failed to copy: httpReadSeeker: failed open: failed to do request: Get "
    "\"https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abc?"
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20261127%2Fus-east-1"
    "&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLETOKEN&X-Amz-Signature=EXAMPLESIGNATURE0123456789abcdef\"",
    "Get \"https://robot:hunter2pass@registry.example.com/v2/\": dial tcp: i/o timeout",
    "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IkV4YW1wbGUifQ",
    "token k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8 rejected",
])
def test_secrets_removed(text: str) -> None:
    cleaned = redact(text)
    assert "[REDACTED]" in cleaned
    assert not any(secret in cleaned for secret in SECRETS)


def test_plain_messages_untouched() -> None:
    text = 'Failed to pull image "nginx:stable": rpc error: code = NotFound desc = not found'
    assert redact(text) == text


def test_a_printed_commands_placeholder_is_not_a_secret() -> None:
    """`--docker-password=<password>` must reach the alert as written: `[REDACTED]` pasted into a
    shell would create a secret whose password is the word [REDACTED]."""
    command = ("kubectl -n payments create secret docker-registry regcred "
               "--docker-server=registry.corp.example.com --docker-username=<user> "
               "--docker-password=<password>")
    assert redact(command) == command
    assert redact("--docker-password=<pass>word") == "--docker-password=[REDACTED]"  # not all placeholder


def test_a_shell_variable_that_holds_the_secret_is_not_one() -> None:
    """A printed command that reads the token from the shell reaches the alert as written."""
    command = ('--secret-string "{\\"username\\":\\"${U:?export U first}\\",'
               '\\"accessToken\\":\\"${DOCKERHUB_TOKEN:?export DOCKERHUB_TOKEN first}\\"}"')
    assert redact(command) == command
    assert redact('{"accessToken": "${T}x"}') == '{"accessToken": "[REDACTED]"}'
