"""What the system holds after a run: its stored refunds, its dead letters, its processor's log.

Decisions are counted from the processor's structured log. The processor writes the line
"refund decided" only after its conditional UpdateItem (status still PENDING) succeeded, once per
stored decision, so the number of those lines for a refund is the number of times a decision was
stored for it: two would be a refund decided twice, whatever the table shows now.
"""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability.queues import peek, refund_id_of
from shared.refund import Refund
from shared.repository import from_item

DECIDED = "refund decided"
ALREADY_DECIDED = "refund already decided"
DECIDED_CONCURRENTLY = "refund decided concurrently"
GATEWAY_FAILED = "gateway failed"
CRASH_SIMULATED = "processor crash simulated"
PROCESSOR_HANDLER = "processor.handler.lambda_handler"


def stored_refunds(dynamodb: Any, table_name: str) -> dict[str, Refund]:
    """Every refund in the table, read with the services' own item mapping."""
    refunds: dict[str, Refund] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        for item in page["Items"]:
            refund = from_item(item)
            refunds[refund.refund_id] = refund
    return refunds


def dead_letters(sqs: Any, dead_letter_queue_url: str) -> Counter[str]:
    """How many messages the DLQ holds for each refund id, left in the DLQ."""
    ids = (refund_id_of(message) for message in peek(sqs, dead_letter_queue_url))
    return Counter(refund_id or "(unreadable)" for refund_id in ids)


@dataclass
class ProcessorLog:
    """The processor's log lines that matter here, by refund id."""

    # The status named by each "refund decided" line.
    decisions: dict[str, list[str]] = field(default_factory=dict)
    already_decided: Counter[str] = field(default_factory=Counter)
    decided_concurrently: Counter[str] = field(default_factory=Counter)
    # The invocations (function request ids) that handled a message of the refund.
    invocations: dict[str, set[str]] = field(default_factory=dict)
    gateway_failures: int = 0
    crashes: int = 0

    def decision_count(self, refund_id: str) -> int:
        return len(self.decisions.get(refund_id, []))

    def add(self, line: dict[str, Any]) -> None:
        message = line.get("message")
        if message == CRASH_SIMULATED:
            self.crashes += 1
            return
        refund_id = line.get("refund_id")
        if not isinstance(refund_id, str):
            return
        if message == DECIDED:
            self.decisions.setdefault(refund_id, []).append(str(line.get("status")))
        elif message == ALREADY_DECIDED:
            self.already_decided[refund_id] += 1
        elif message == DECIDED_CONCURRENTLY:
            self.decided_concurrently[refund_id] += 1
        elif message == GATEWAY_FAILED:
            self.gateway_failures += 1
        else:
            return
        request_id = line.get("function_request_id")
        if isinstance(request_id, str):
            self.invocations.setdefault(refund_id, set()).add(request_id)


def json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a function log; the runtime's START/END lines and tracebacks are not."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if isinstance(document, dict):
                yield document


def read_processor_log(path: Path) -> ProcessorLog:
    log = ProcessorLog()
    for line in json_lines(path):
        log.add(line)
    return log


def processor_log_path(log_dir: Path, functions: dict[str, Any]) -> Path:
    """The local run writes each function's output to <log dir>/<logical id>.log."""
    for logical_id, definition in functions.items():
        if definition.handler == PROCESSOR_HANDLER:
            return log_dir / f"{logical_id}.log"
    raise LookupError(f"no function has the handler {PROCESSOR_HANDLER}")
