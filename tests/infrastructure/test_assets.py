"""Function assets: only the function's own code and shared/, the same bytes on every synth."""

from pathlib import Path
from typing import Any

import pytest

from stacks.stateless.assets import SERVICES_DIR
from tests.infrastructure.synth import Synthesis, scratch_dir, synthesize
from tests.infrastructure.templates import resources_of

FOLDERS = {
    "receiver.handler.lambda_handler": "receiver",
    "processor.handler.lambda_handler": "processor",
    "status.handler.lambda_handler": "status",
}


def _asset_hashes(template: dict[str, Any]) -> dict[str, str]:
    """Handler -> the asset hash its code zip is named after."""
    return {
        function["Properties"]["Handler"]: function["Properties"]["Code"]["S3Key"].removesuffix(
            ".zip"
        )
        for function in resources_of(template, "AWS::Lambda::Function").values()
    }


def _shipped_files(synthesis: Synthesis, asset_hash: str) -> set[str]:
    root = synthesis.directory / f"asset.{asset_hash}"
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def _source_files(folder: str) -> set[str]:
    root = SERVICES_DIR / folder
    return {
        str(path.relative_to(SERVICES_DIR))
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts and "tests" not in path.parts
    }


@pytest.fixture(scope="module")
def second_synthesis() -> Synthesis:
    return synthesize(scratch_dir("refunds-second-synth-"))


@pytest.mark.parametrize(("handler", "folder"), FOLDERS.items())
def test_asset_holds_exactly_the_functions_folder_and_shared(
    synthesis: Synthesis, handler: str, folder: str
) -> None:
    asset_hash = _asset_hashes(synthesis.template("Dev", "Stateless"))[handler]

    assert _shipped_files(synthesis, asset_hash) == _source_files(folder) | _source_files("shared")


@pytest.mark.parametrize("handler", FOLDERS)
def test_asset_ships_no_caches_tests_or_compiled_files(synthesis: Synthesis, handler: str) -> None:
    asset_hash = _asset_hashes(synthesis.template("Dev", "Stateless"))[handler]
    shipped = _shipped_files(synthesis, asset_hash)

    assert [name for name in shipped if not name.endswith(".py")] == []
    assert [name for name in shipped if "__pycache__" in name or "/tests/" in name] == []


def test_asset_hashes_are_identical_on_a_second_synth(
    synthesis: Synthesis, second_synthesis: Synthesis
) -> None:
    first = _asset_hashes(synthesis.template("Dev", "Stateless"))
    second = _asset_hashes(second_synthesis.template("Dev", "Stateless"))

    assert second == first
    assert len(set(first.values())) == 3


def test_dev_and_prod_deploy_the_same_function_code(synthesis: Synthesis) -> None:
    dev = _asset_hashes(synthesis.template("Dev", "Stateless"))
    prod = _asset_hashes(synthesis.template("Prod", "Stateless"))

    assert prod == dev


def test_asset_path_does_not_depend_on_the_working_directory() -> None:
    assert SERVICES_DIR.is_absolute()
    assert SERVICES_DIR.parent == Path(__file__).resolve().parents[2]
