"""Load the real Lambda handler module from a source tree or a `sam build` artifact."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[3]
SOURCE_HANDLER = REPO / "functions" / "scan" / "app.py"


def load_handler(path: Path = SOURCE_HANDLER) -> ModuleType:
    """Import `app.py` at `path` as a fresh module (so each load gets its own globals)."""
    spec = importlib.util.spec_from_file_location(f"pullmedic_handler_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no handler at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    """The attributes of the Lambda context object that powertools reads."""

    function_name = "pullmedic-scan"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-2:123456789012:function:pullmedic-scan"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/pullmedic-scan"
    log_stream_name = "sandbox"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty: the sandbox has no deadline."""
        return 900_000


def invoke(module: ModuleType, event: dict[str, Any]) -> Any:
    """Call the module's lambda_handler the way the Lambda runtime does."""
    return module.lambda_handler(event, LambdaContext())
