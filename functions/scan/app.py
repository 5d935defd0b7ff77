"""Lambda entry point: parse the event, scan and announce (silence, remediate, doctor), return a summary.

Logic lives in the layer; log lines are redacted as they are written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics

from pullmedic.announcing.announce import DeliveryIncomplete
from pullmedic.app.bootstrap import App, bootstrap, with_deadline
from pullmedic.app.event import DoctorOrder, FanoutOrder, RemediateOrder, ScanOrder, SilenceOrder, parse_event
from pullmedic.app.fanout import aggregate, list_targets, scan_cluster, start_if_large
from pullmedic.app.metrics import Dimensions, Metric, scan_metrics
from pullmedic.app.remediate import remediate
from pullmedic.app.responses import LAMBDA_RESPONSE_BYTES, STATE_BYTES, fitted
from pullmedic.app.service import add_silence, cli_flags, run_scan
from pullmedic.app.summary import ScanSummary
from pullmedic.core.redact import redacted_json
from pullmedic.core.settings import Settings, load
from pullmedic.core.vocab import OrderSource
from pullmedic.doctor.run import run_doctor

logger = Logger(service="pullmedic", json_serializer=redacted_json)
metrics = Metrics(namespace="pullmedic", service="pullmedic")
tracer = Tracer(service="pullmedic")


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Scan the clusters the event (or the deployment) names and report what cannot pull."""
    order = parse_event(event)
    settings = load()
    app = with_deadline(bootstrap(settings), _seconds_left(context))
    return HANDLERS[type(order)](order, settings, app, context)


def _silence(order: SilenceOrder, settings: Settings, app: App, _context: Any) -> dict[str, Any]:
    written = add_silence(order, settings, app)
    logger.info("silence written", extra=written)
    return written


def _doctor(order: DoctorOrder, settings: Settings, app: App, _context: Any) -> dict[str, Any]:
    checked = run_doctor(order, settings, app)
    logger.info("doctor", extra=checked["doctor"]["counts"])
    return checked


def _remediate(order: RemediateOrder, settings: Settings, app: App, context: Any) -> dict[str, Any]:
    outcome = remediate(order, settings, app, caller=f"Lambda request {context.aws_request_id}",
                        flags=cli_flags(settings, app))
    logger.info("remediation", extra=outcome)
    return outcome


def _scan(order: ScanOrder, settings: Settings, app: App, _context: Any) -> dict[str, Any]:
    started = start_if_large(settings, app) if order.source == OrderSource.SCHEDULE else None
    if started:
        logger.info("scan handed to the state machine", extra=started)
        return started
    return fitted(_finished(lambda: run_scan(order, settings, app)).doc(), LAMBDA_RESPONSE_BYTES)


def _fanout(order: FanoutOrder, settings: Settings, app: App, _context: Any) -> dict[str, Any]:
    if order.step == "list":
        return list_targets(settings, app)
    if order.step == "cluster":
        scanned = scan_cluster(order, settings, app)
        logger.info("cluster scanned", extra=scanned)
        return scanned
    # a state's output is limited to 256 KB: counts only
    return fitted(_finished(lambda: aggregate(order, settings, app)).counts(), STATE_BYTES)


def _finished(run: Callable[[], ScanSummary]) -> ScanSummary:
    """Run a scan; log and emit what it found (or, when delivery failed, what waits)."""
    try:
        summary = run()
    except DeliveryIncomplete as err:  # the outbox keeps what was not published: fail loudly
        logger.error("announcements wait in the outbox", extra={"failures": err.failures,
                                                               "summary": err.summary})
        raise
    emit(scan_metrics(summary.result, summary.duration_ms, summary.announced))
    log_scan(summary)
    return summary


Handler = Callable[[Any, Settings, App, Any], dict[str, Any]]
HANDLERS: dict[type, Handler] = {
    SilenceOrder: _silence, DoctorOrder: _doctor, RemediateOrder: _remediate, ScanOrder: _scan,
    FanoutOrder: _fanout,
}


def log_scan(summary: ScanSummary) -> None:
    """A line per scan error, per problem (the dashboard's table of open problems reads these
    lines), then the counts."""
    doc = summary.doc()
    for error in doc["errors"]:
        logger.warning("cluster not scanned", extra={"scan_error": error})
    for problem in doc["problems"]:
        logger.info("problem", extra={"problem": problem})
    logger.info("scan finished", extra=summary.log_fields())


def _seconds_left(context: Any) -> float | None:
    """The invocation's remaining time, when the platform tells it."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else None


def emit(groups: dict[Dimensions, list[Metric]]) -> None:
    """Service-wide metrics go out with the invocation; each dimensioned group as its own line."""
    for dimensions, values in groups.items():
        if not dimensions:
            for name, unit, value in values:
                metrics.add_metric(name=name, unit=unit, value=value)
            continue
        line = EphemeralMetrics(namespace=metrics.namespace, service=metrics.service)
        for dimension, label in dimensions:
            line.add_dimension(name=dimension, value=label)
        for name, unit, value in values:
            line.add_metric(name=name, unit=unit, value=value)
        line.flush_metrics()
