"""Every curl example in README.md, run with the curl binary, gives the answer shown under it.

An answer matches when it has the same fields with the same values, numbers compared by their
exact text; ids and timestamps differ on every run, so for those only their presence counts. An
example that reads a refund may be repeated until the processor has decided it.
"""

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.assembly import load_stage
from local.system import LocalSystem
from tests.e2e.support import DECISION_DEADLINE

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).resolve().parents[2] / "README.md"
VOLATILE = frozenset({"refundId", "createdAt", "updatedAt", "decidedAt"})
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    command: str
    answer: str


def documented_examples() -> list[Example]:
    """Each curl block of the guide with the JSON block right after it."""
    blocks = [(match.group(1), match.group(2)) for match in _FENCE.finditer(GUIDE.read_text())]
    return [
        Example(command=body, answer=blocks[index + 1][1])
        for index, (language, body) in enumerate(blocks[:-1])
        if language == "bash" and body.startswith("curl ") and blocks[index + 1][0] == "json"
    ]


def _parsed(text: str) -> Any:
    return json.loads(text, parse_float=str)


def _matches(shown: Any, got: Any) -> bool:
    if isinstance(shown, dict):
        return (
            isinstance(got, dict)
            and shown.keys() == got.keys()
            and all(
                isinstance(got[key], str) if key in VOLATILE else _matches(value, got[key])
                for key, value in shown.items()
            )
        )
    return bool(shown == got)


def test_the_guide_has_curl_examples_with_answers() -> None:
    assert len(documented_examples()) == 12


def test_every_curl_example_gives_the_answer_shown(local_system: LocalSystem) -> None:
    environment = {
        "PATH": os.environ["PATH"],
        "API_URL": local_system.api_url,
        "API_KEY": local_system.api_key,
        "REFUND_ID": "",
    }
    for example in documented_examples():
        shown = _parsed(example.answer)
        give_up = time.monotonic() + DECISION_DEADLINE
        while True:
            output = subprocess.run(
                ["bash", "-c", example.command],
                env=environment,
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout
            got = _parsed(output)
            if _matches(shown, got) or time.monotonic() > give_up:
                break
            time.sleep(0.2)

        assert _matches(shown, got), f"{example.command}\nshown: {example.answer}\ngot: {output}"
        if "refundId" in got:
            environment["REFUND_ID"] = got["refundId"]


def test_the_guide_names_the_stack_outputs_and_secret_a_deployed_dev_stage_has(
    cloud_assembly: Path,
) -> None:
    stateless = load_stage(cloud_assembly, "Dev").stateless
    outputs = stateless.template["Outputs"]
    guide = GUIDE.read_text()

    assert stateless.stack_name == "Refunds-Dev-Stateless"
    assert {"ApiUrl", "ApiKeySecretName"} <= outputs.keys()
    assert outputs["ApiKeySecretName"]["Value"] == "refunds/dev/api-key"
    for name in ("Refunds-Dev-Stateless", "ApiUrl", "ApiKeySecretName", "refunds/dev/api-key"):
        assert name in guide
