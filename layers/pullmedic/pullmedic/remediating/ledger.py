"""Remediation items in the state table: plans, the audit trail, fixes awaiting verification.

Items (see state.py for the table and the open-problem items):

    plan      pk "plan#<fingerprint>"    sk "<action>"
              plan (JSON: Plan.doc()), evidence_digest,
              status (planned | applying | applied | failed), planned_by, planned_at,
              valid_until (N: an approval may use a planned plan once, until then),
              used_by, used_at (the approval that used it), expires_at (planned_at + 30 days)
    audit     pk "audit#<fingerprint>"   sk "<ISO time>#<action>#<step>"
              step (plan | approval | apply | verify), who, at, action, cluster, result,
              detail (JSON: calls, steps, refusal), undo (JSON list), expires_at (+ 400 days)
    applied   pk "cluster#<cluster>"     sk "remediation#<fingerprint>#<action>"
              fingerprint, action, namespace, applied_at, applied_by, summary, undo (JSON),
              expires_at (+ 30 days): a fix the next scans verify (then the item is deleted)

The applied items share the cluster's partition so that one query per scanned cluster finds
them (the open-problem query reads only sort keys starting with "finding#").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from pullmedic.announcing.dynamo import attributes, conflict, query
from pullmedic.core.times import iso
from pullmedic.core.vocab import PlanStatus
from pullmedic.remediating.actions.base import Plan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PLAN_RETENTION = timedelta(days=30)
PLAN_VALIDITY = timedelta(hours=1)  # the default; PULLMEDIC_PLAN_VALID_MINUTES sets it
AUDIT_RETENTION = timedelta(days=400)


@dataclass(frozen=True)
class StoredPlan:
    """A plan as stored when it was shown, and what became of it."""

    plan: Plan
    status: PlanStatus
    planned_by: str
    planned_at: str
    valid_until: datetime | None = None  # an approval after this is refused
    used_by: str = ""  # who approved it (once used)


@dataclass(frozen=True)
class Applied:
    """A fix applied to a problem, waiting for a scan to verify it."""

    cluster: str
    fingerprint: str
    action: str
    namespace: str
    applied_at: datetime
    applied_by: str
    summary: str
    undo: tuple[str, ...]


class Ledger:
    """Reads and writes the remediation items (the client is injected)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client, self._table = client, table

    def save_plan(self, plan: Plan, who: str, now: datetime, status: PlanStatus = PlanStatus.PLANNED,
                  valid_for: timedelta = PLAN_VALIDITY, used_by: str = "") -> None:
        """Store (or replace) the plan of one fingerprint and action; an approval may use a
        planned one once, within `valid_for`."""
        self._put({"pk": f"plan#{plan.fingerprint}", "sk": plan.action,
                   "plan": json.dumps(plan.doc(), separators=(",", ":")),
                   "evidence_digest": plan.evidence_digest, "status": status,
                   "planned_by": who, "planned_at": iso(now, micro=True),
                   "valid_until": int((now + valid_for).timestamp()), "used_by": used_by or None,
                   "expires_at": int((now + PLAN_RETENTION).timestamp())})

    def use_plan(self, fingerprint: str, action: str, who: str, now: datetime) -> bool:
        """Mark a shown plan as being applied, once: False when it was used or expired meanwhile
        (of two approvals of the same plan, one wins)."""
        try:
            self._client.update_item(
                TableName=self._table, Key=attributes({"pk": f"plan#{fingerprint}", "sk": action}),
                UpdateExpression="SET #status = :applying, used_by = :who, used_at = :at",
                ConditionExpression="#status = :planned AND valid_until > :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=attributes({":applying": PlanStatus.APPLYING,
                                                      ":planned": PlanStatus.PLANNED, ":who": who,
                                                      ":at": iso(now, micro=True),
                                                      ":now": int(now.timestamp())}))
        except ClientError as err:
            if conflict(err):
                return False
            raise
        return True

    def plan(self, fingerprint: str, action: str) -> StoredPlan | None:
        """The stored plan, if one was made."""
        items = self._query("pk = :pk AND sk = :sk", {":pk": f"plan#{fingerprint}", ":sk": action})
        if not items:
            return None
        item = items[0]
        valid = item.get("valid_until")
        return StoredPlan(Plan.from_doc(json.loads(item["plan"])), PlanStatus(item["status"]),
                          item["planned_by"], item["planned_at"],
                          datetime.fromtimestamp(valid, UTC) if valid else None,
                          item.get("used_by", ""))

    def audit(self, fingerprint: str, action: str, cluster: str, step: str, *, who: str,
              now: datetime, result: str, detail: dict[str, Any] | None = None,
              undo: tuple[str, ...] = ()) -> None:
        """One audit item: who did which step of which action, what changed, how to undo it."""
        self._put({"pk": f"audit#{fingerprint}", "sk": f"{iso(now, micro=True)}#{action}#{step}",
                   "step": step, "who": who, "at": iso(now, micro=True), "action": action,
                   "cluster": cluster, "result": result,
                   "detail": json.dumps(detail or {}, separators=(",", ":"), default=str),
                   "undo": json.dumps(list(undo)),
                   "expires_at": int((now + AUDIT_RETENTION).timestamp())})

    def record_applied(self, plan: Plan, who: str, now: datetime, summary: str) -> None:
        """Remember a fix for the next scans to verify."""
        self._put({**_applied_key(plan.cluster, plan.fingerprint, plan.action),
                   "fingerprint": plan.fingerprint, "action": plan.action,
                   "namespace": plan.namespace, "applied_at": iso(now, micro=True), "applied_by": who,
                   "summary": summary, "undo": json.dumps(list(plan.undo)),
                   "expires_at": int((now + PLAN_RETENTION).timestamp())})

    def applied(self, clusters: Iterable[str]) -> list[Applied]:
        """The fixes waiting for verification in `clusters`."""
        found = []
        for cluster in sorted(clusters):
            for item in self._query("pk = :pk AND begins_with(sk, :prefix)",
                                    {":pk": f"cluster#{cluster}", ":prefix": "remediation#"}):
                found.append(Applied(cluster, item["fingerprint"], item["action"], item["namespace"],
                                     datetime.fromisoformat(item["applied_at"]), item["applied_by"],
                                     item["summary"], tuple(json.loads(item["undo"]))))
        return found

    def settle(self, fix: Applied) -> None:
        """The fix is verified (either way): forget it."""
        self._client.delete_item(TableName=self._table,
                                 Key=attributes(_applied_key(fix.cluster, fix.fingerprint, fix.action)))

    def _put(self, item: dict[str, Any]) -> None:
        self._client.put_item(TableName=self._table, Item=attributes(item))

    def _query(self, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        return list(query(self._client, self._table, condition, values))


def _applied_key(cluster: str, fingerprint: str, action: str) -> dict[str, str]:
    return {"pk": f"cluster#{cluster}", "sk": f"remediation#{fingerprint}#{action}"}

