"""The deployer's own tools accept the template: cfn-lint, `sam validate --lint`, `sam build`."""

from __future__ import annotations

from pathlib import Path

from deploy_support import (
    FUNCTION_ID,
    LAYER_ID,
    LISTED_CLUSTERS,
    REGION,
    REPO,
    SAM_BIN,
    TEMPLATE,
    load_yaml,
    require_sam_venv,
    run,
    sam,
)


def test_cfn_lint(tmp_path: Path) -> None:
    """Lints the template as written, and with its access-entry loop over real cluster names
    (the default list is empty, so the loop body is otherwise linted with an empty name)."""
    require_sam_venv()
    text = TEMPLATE.read_text()
    default = '  ClusterNames:\n    Type: CommaDelimitedList\n    Default: ""\n'
    assert default in text
    variant = tmp_path / "template.yaml"
    variant.write_text(text.replace(default, default.replace(
        '""', '"' + ",".join(LISTED_CLUSTERS) + '"')))
    run([str(SAM_BIN / "cfn-lint"), str(TEMPLATE), str(variant)])


def test_sam_validate_lint() -> None:
    sam("validate", "--lint", "--region", REGION)


def test_sam_build_keeps_the_loop_for_cloudformation(built: Path) -> None:
    template = load_yaml(built / "template.yaml")
    assert "Fn::ForEach::AccessEntries" in template["Resources"]
    assert template["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    assert template["Resources"][FUNCTION_ID]["Properties"]["CodeUri"] == FUNCTION_ID
    assert template["Resources"][LAYER_ID]["Properties"]["ContentUri"] == LAYER_ID


def test_built_function_is_only_the_handler(built: Path) -> None:
    files = sorted(p.relative_to(built / FUNCTION_ID).as_posix()
                   for p in (built / FUNCTION_ID).rglob("*") if p.is_file())
    assert files == ["app.py"], "the function package must hold app.py only (not rbac/ etc.)"
    assert (built / FUNCTION_ID / "app.py").read_bytes() == (
        REPO / "functions/scan/app.py").read_bytes()
