"""One local system for the whole suite, with the load run's faults on: 20% of payment gateway
calls time out and 5% of processor invocations crash part-way through their batch."""

from collections.abc import Iterator

import pytest

from local.system import LocalSystem
from reliability.load import DEFAULT_FAULTS
from tests.e2e.support import local_run
from tests.infrastructure.synth import default_synthesis


@pytest.fixture(scope="session")
def faulty_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    log_dir = tmp_path_factory.mktemp("reliability-logs")
    with local_run(default_synthesis().directory, log_dir, faults=DEFAULT_FAULTS) as system:
        yield system
