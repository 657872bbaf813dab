"""Fixtures over one synthesis of the app, shared by the whole session (see synth.py)."""

from typing import Any

import pytest
from aws_cdk import assertions

from tests.infrastructure.synth import Synthesis, default_synthesis

STAGES = ("Dev", "Prod")


@pytest.fixture(scope="session")
def synthesis() -> Synthesis:
    return default_synthesis()


@pytest.fixture(scope="session", params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def stateful_json(synthesis: Synthesis, stage: str) -> dict[str, Any]:
    return synthesis.template(stage, "Stateful")


@pytest.fixture(scope="session")
def stateless_json(synthesis: Synthesis, stage: str) -> dict[str, Any]:
    return synthesis.template(stage, "Stateless")


@pytest.fixture(scope="session")
def stateful(stateful_json: dict[str, Any]) -> assertions.Template:
    return assertions.Template.from_json(stateful_json)


@pytest.fixture(scope="session")
def stateless(stateless_json: dict[str, Any]) -> assertions.Template:
    return assertions.Template.from_json(stateless_json)
