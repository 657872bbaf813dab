"""Each function runs from its own asset in the cloud assembly, as Lambda would run it."""

import shutil
from pathlib import Path

import pytest

from local.assembly import load_stage
from local.system import LocalSystem
from tests.e2e.support import local_run

pytestmark = pytest.mark.e2e


def test_every_function_runs_from_its_asset_in_the_assembly(
    local_system: LocalSystem, cloud_assembly: Path
) -> None:
    roots = {definition.code_root for definition in local_system.functions.values()}

    assert len(roots) == 3
    assert all(root.parent == cloud_assembly.resolve() for root in roots)


def test_a_function_whose_asset_lacks_the_shared_module_fails_to_start(
    cloud_assembly: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "cdk.out"
    shutil.copytree(cloud_assembly, broken)
    stateless = load_stage(broken, "Dev").stateless
    for asset in stateless.assets.values():
        shutil.rmtree(asset / "shared")

    with pytest.raises(RuntimeError, match="failed to initialize"), local_run(broken, tmp_path):
        pass
