"""Snapshots of the four stage templates; `make snapshot-update` is the one way to refresh them.

Asset hashes and the API deployment's content hash change with any code edit, so they are masked;
everything else a reviewer should see change is kept.
"""

import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.infrastructure.synth import Synthesis

VOLATILE = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<asset-hash>"),
    (re.compile(r"(RestApiDeployment[0-9A-F]{8})[0-9a-f]{32}"), r"\1<content-hash>"),
]


def masked(template: dict[str, Any]) -> Any:
    text = json.dumps(template, indent=1, sort_keys=True)
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return json.loads(text)


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
@pytest.mark.parametrize("part", ["Stateful", "Stateless"])
def test_template_matches_its_snapshot(
    synthesis: Synthesis, snapshot_json: SnapshotAssertion, stage: str, part: str
) -> None:
    assert masked(synthesis.template(stage, part)) == snapshot_json
