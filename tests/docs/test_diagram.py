"""The architecture picture: `make diagram` renders it from its D2 source, offline."""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PICTURE = REPO_ROOT / "docs" / "architecture.svg"
SVG = "{http://www.w3.org/2000/svg}"

# Every part the picture must name, each as a phrase its labels contain.
PARTS = [
    "Back-office client",
    "API key",
    "WAF web ACL",
    "API Gateway REST API",
    "receiver",
    "DynamoDB table",
    "Refund queue",
    "Dead-letter queue",
    "processor",
    "status reader",
    "X-Ray tracing",
    "CloudWatch alarms",
    "SNS alarm topic",
    "Source",
    "Synth",
    "Self-mutation",
    "Assets",
    "Dev stage",
    "Manual approval",
    "Prod stage",
]


def _without_network() -> list[str]:
    """A prefix that runs a command with no network at all where this machine allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def _svg(picture: str) -> ElementTree.Element:
    # The document is our pinned renderer's output from our own source, not outside input.
    return ElementTree.fromstring(picture)  # noqa: S314


def _labels(picture: str) -> str:
    """All text the picture shows, one label line per line."""
    lines = ("".join(text.itertext()) for text in _svg(picture).iter(f"{SVG}text"))
    return "\n".join(line for line in lines if line)


@pytest.fixture(scope="module")
def rendered() -> tuple[str, str]:
    """The picture as committed, and as `make diagram` renders it now (a stale one is rewritten)."""
    committed = PICTURE.read_text()
    # Installing is make's job elsewhere; here the installed tools count as up to date, so
    # nothing is fetched, and any attempt to reach a proxy ends at a closed local port.
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    subprocess.run(
        [
            *_without_network(),
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "-o",
            "node_modules/.installed",
            "diagram",
        ],
        cwd=REPO_ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    return committed, PICTURE.read_text()


def test_make_diagram_renders_an_svg(rendered: tuple[str, str]) -> None:
    _, picture = rendered

    assert _svg(picture).tag == f"{SVG}svg"


def test_committed_picture_is_what_the_source_renders(rendered: tuple[str, str]) -> None:
    committed, picture = rendered

    assert picture == committed


@pytest.mark.parametrize("part", PARTS)
def test_picture_names_each_part(rendered: tuple[str, str], part: str) -> None:
    _, picture = rendered

    assert part in _labels(picture)


def test_table_label_keeps_its_key_shape(rendered: tuple[str, str]) -> None:
    _, picture = rendered

    # An unquoted # starts a comment in D2, which once cut this label short.
    assert "PK = REFUND#<refundId>" in _labels(picture)
