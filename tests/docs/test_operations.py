"""The operations runbook: an entry for every alarm as synthesized, queries on fields that exist."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stacks.stateless.api import ACCESS_LOG_FIELDS
from tests.infrastructure.synth import default_synthesis
from tests.infrastructure.templates import resources_of

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (REPO_ROOT / "docs" / "operations.md").read_text()
STAGE = "Dev"
LOG_CALLS = {"append_keys", "debug", "info", "warning", "error", "exception"}


def _alarms() -> dict[str, dict[str, Any]]:
    """Alarm name without the stage prefix -> properties, from the synthesized Dev stage."""
    template = default_synthesis().template(STAGE, "Stateless")
    prefix = f"Refunds-{STAGE}-"
    return {
        alarm["Properties"]["AlarmName"].removeprefix(prefix): alarm["Properties"]
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
    }


def _table_row(name: str) -> list[str]:
    """The cells of the alarm table's row for one alarm."""
    (line,) = [row for row in RUNBOOK.splitlines() if row.startswith(f"| `Refunds-<Stage>-{name}`")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def _queries() -> list[str]:
    return re.findall(r"```text\n(.*?)```", RUNBOOK, flags=re.DOTALL)


def _fields_read(query: str) -> set[str]:
    """The log fields a Logs Insights query lists or filters on, CloudWatch's own @ fields aside."""
    names: set[str] = set()
    for line in query.splitlines():
        clause = line.strip().removeprefix("| ")
        if clause.startswith("fields "):
            names |= {name.strip() for name in clause.removeprefix("fields ").split(",")}
        if clause.startswith("filter "):
            names |= set(re.findall(r"([A-Za-z_@][\w@]*)\s*(?:=|like\b|!=)", clause))
            names |= set(re.findall(r"lower\((\w+)\)", clause))
    return {name for name in names if name and not name.startswith("@")}


def _keys_the_services_add() -> set[str]:
    """Keyword names passed to the Logger by the function code: appended keys and extra fields."""
    keys: set[str] = set()
    for path in (REPO_ROOT / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_CALLS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "logger"
            ):
                keys |= {keyword.arg for keyword in node.keywords if keyword.arg}
    return keys - {"exc_info"}


def _keys_powertools_writes() -> set[str]:
    """The keys of one line from the services' Logger inside an invocation, as in Lambda."""
    code = (
        "from shared.observability import logger\n"
        "class Context:\n"
        "    function_name = 'receiver'\n"
        "    memory_limit_in_mb = 256\n"
        "    invoked_function_arn = 'arn:aws:lambda:eu-west-1:222222222222:function:receiver'\n"
        "    aws_request_id = 'request'\n"
        "@logger.inject_lambda_context(clear_state=True)\n"
        "def handler(event, context):\n"
        "    logger.info('refund accepted')\n"
        "handler({}, Context())\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_ROOT / "services"),
        "STAGE": STAGE,
        "POWERTOOLS_SERVICE_NAME": "receiver",
        "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Sampled=1",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    line: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return set(line)


@pytest.mark.parametrize("name", sorted(_alarms()))
def test_runbook_has_an_entry_for_every_alarm(name: str) -> None:
    assert f"### Refunds-<Stage>-{name}\n\n**Means:**" in RUNBOOK
    assert "**Do:**" in RUNBOOK.split(f"### Refunds-<Stage>-{name}\n", 1)[1].split("\n### ")[0]


@pytest.mark.parametrize("name", sorted(_alarms()))
def test_alarm_table_states_what_the_template_sets(name: str) -> None:
    alarm = _alarms()[name]
    metric_cell, threshold_cell, periods_cell = _table_row(name)[1:]
    stat = alarm["Metrics"][0]["MetricStat"]

    assert f"`{stat['Metric']['MetricName']}` ({stat['Stat']}" in metric_cell
    assert threshold_cell.split()[0] == f"{alarm['Threshold']:g}"
    assert periods_cell == f"{alarm['DatapointsToAlarm']} of {alarm['EvaluationPeriods']}"


def test_alarm_table_lists_exactly_the_synthesized_alarms() -> None:
    listed = set(re.findall(r"^\| `Refunds-<Stage>-([\w-]+)`", RUNBOOK, flags=re.MULTILINE))

    assert listed == set(_alarms())


def test_runbook_queries_read_only_fields_the_system_writes() -> None:
    written = _keys_powertools_writes() | _keys_the_services_add() | set(ACCESS_LOG_FIELDS)
    read = set().union(*(_fields_read(query) for query in _queries()))

    assert read - written == set()
    assert {"refund_id", "correlation_id", "requestId", "status", "level"} <= read


def test_refund_query_finds_a_refund_by_the_key_every_function_logs() -> None:
    assert {"refund_id", "correlation_id"} <= _keys_the_services_add()
    assert 'filter lower(refund_id) = "<refund id, lowercase>"' in RUNBOOK
