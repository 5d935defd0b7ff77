"""`pullmedic silence` writes the same silence as the console event, to the named table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pullmedic.cli import main


def test_cli_writes_a_silence_to_the_table(sandbox, new_table, capsys, monkeypatch) -> None:
    table = new_table()
    with sandbox.activated():
        code = main(["silence", "--workload", "prod/shop/Deployment/api", "--hours", "2",
                     "--reason", "rollout in progress", "--table", table])
    assert code == 0
    assert "Silenced workload prod/shop/Deployment/api until" in capsys.readouterr().out
    item = sandbox.client("dynamodb").get_item(TableName=table, Key={
        "pk": {"S": "silence#workload"}, "sk": {"S": "prod/shop/Deployment/api"}})["Item"]
    assert item["reason"]["S"] == "rollout in progress"
    ends = datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)
    assert abs(ends - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(minutes=1)

    monkeypatch.setenv("PULLMEDIC_TABLE", table)
    with sandbox.activated():
        assert main(["silence", "--fingerprint", "0ff9c55240fe5160"]) == 0
    keys = {(i["pk"]["S"], i["sk"]["S"]) for i in sandbox.client("dynamodb").scan(TableName=table)["Items"]}
    assert ("silence#fingerprint", "0ff9c55240fe5160") in keys


def test_cli_silence_says_what_is_wrong(sandbox, monkeypatch, capsys) -> None:
    monkeypatch.delenv("PULLMEDIC_TABLE", raising=False)
    with sandbox.activated():
        assert main(["silence", "--namespace", "shop", "--hours", "0"]) == 2
        error = capsys.readouterr().err
        assert "'silence.namespace' must be cluster/namespace, not 'shop'" in error
        assert "'silence.hours' must be a number of hours above 0" in error
        assert main(["silence", "--namespace", "prod/shop"]) == 2
        assert "set PULLMEDIC_TABLE (or pass --table)" in capsys.readouterr().err
