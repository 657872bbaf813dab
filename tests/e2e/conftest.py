"""End-to-end fixtures: one local system per session, from a fresh synthesis, on free ports."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.system import LocalSystem
from tests.e2e.support import RefundApi, local_run
from tests.infrastructure.synth import default_synthesis


@pytest.fixture(scope="session")
def cloud_assembly() -> Path:
    return default_synthesis().directory


@pytest.fixture(scope="session")
def local_system(
    cloud_assembly: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalSystem]:
    with local_run(cloud_assembly, tmp_path_factory.mktemp("local-logs")) as system:
        yield system


@pytest.fixture
def api(local_system: LocalSystem) -> Iterator[RefundApi]:
    with requests.Session() as session:
        yield RefundApi(local_system, session)
