"""The local run's settings: every one checked at start, refused in one line naming its variable."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.settings import SettingsError
from local.system import Settings

pytestmark = pytest.mark.e2e

REPOSITORY = Path(__file__).resolve().parents[2]
PORT_RULE = "must be an integer from 0 to 65535"
RATE_RULE = "must be a number from 0 to 1"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_TIMEOUT_RATE", "abc", f"GATEWAY_TIMEOUT_RATE {RATE_RULE}, not 'abc'"),
        ("GATEWAY_TIMEOUT_RATE", "2", f"GATEWAY_TIMEOUT_RATE {RATE_RULE}, not '2'"),
        ("PROCESSOR_CRASH_RATE", "-1", f"PROCESSOR_CRASH_RATE {RATE_RULE}, not '-1'"),
        ("PROCESSOR_CRASH_RATE", "nan", f"PROCESSOR_CRASH_RATE {RATE_RULE}, not 'nan'"),
        ("LOCAL_TIME_SCALE", "0", "LOCAL_TIME_SCALE must be a number above 0, not '0'"),
        ("LOCAL_TIME_SCALE", "abc", "LOCAL_TIME_SCALE must be a number above 0, not 'abc'"),
        ("LOCAL_TIME_SCALE", "inf", "LOCAL_TIME_SCALE must be a number above 0, not 'inf'"),
        ("LOCAL_PORT", "99999", f"LOCAL_PORT {PORT_RULE}, not '99999'"),
        ("LOCAL_PORT", "3000.5", f"LOCAL_PORT {PORT_RULE}, not '3000.5'"),
        ("LOCAL_AWS_PORT", "-1", f"LOCAL_AWS_PORT {PORT_RULE}, not '-1'"),
        ("LOCAL_CONCURRENCY", "0", "LOCAL_CONCURRENCY must be an integer of at least 1, not '0'"),
        (
            "REFUNDS_API_KEY",
            "short",
            "REFUNDS_API_KEY must be at least 20 characters long, as API Gateway requires; "
            "it has 5",
        ),
        (
            "REFUNDS_API_KEY",
            "a key with spaces in it",
            "REFUNDS_API_KEY must hold only visible ASCII characters (no spaces), "
            "to travel in the x-api-key header",
        ),
    ],
)
def test_a_setting_out_of_its_range_is_refused_naming_the_variable_and_the_range(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_environment({variable: value})

    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("port", 99999, f"LOCAL_PORT {PORT_RULE}, not 99999"),
        ("aws_port", True, f"LOCAL_AWS_PORT {PORT_RULE}, not True"),
        ("time_scale", 0, "LOCAL_TIME_SCALE must be a number above 0, not 0"),
        ("concurrency", 0, "LOCAL_CONCURRENCY must be an integer of at least 1, not 0"),
        ("faults", {"GATEWAY_TIMEOUT_RATE": "2"}, f"GATEWAY_TIMEOUT_RATE {RATE_RULE}, not '2'"),
        (
            "faults",
            {"CRASH": "1"},
            "faults may set only GATEWAY_TIMEOUT_RATE and PROCESSOR_CRASH_RATE, not 'CRASH'",
        ),
    ],
)
def test_settings_built_in_code_are_held_to_the_same_ranges(
    field: str, value: Any, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings(**{field: value})

    assert str(refused.value) == message


def test_an_empty_variable_counts_as_unset() -> None:
    settings = Settings.from_environment({"LOCAL_PORT": "", "LOCAL_TIME_SCALE": ""})

    assert (settings.port, settings.time_scale) == (3000, 60.0)


def test_the_edges_of_each_range_are_accepted() -> None:
    settings = Settings.from_environment(
        {
            "LOCAL_PORT": "0",
            "LOCAL_AWS_PORT": "65535",
            "LOCAL_TIME_SCALE": "0.5",
            "LOCAL_CONCURRENCY": "1",
            "GATEWAY_TIMEOUT_RATE": "0",
            "PROCESSOR_CRASH_RATE": "1",
        }
    )

    assert (settings.port, settings.aws_port, settings.time_scale, settings.concurrency) == (
        0,
        65535,
        0.5,
        1,
    )
    assert settings.faults == {"GATEWAY_TIMEOUT_RATE": "0", "PROCESSOR_CRASH_RATE": "1"}


def test_make_local_with_a_bad_setting_exits_2_with_one_line_and_starts_nothing() -> None:
    environment = {**os.environ, "LOCAL_TIME_SCALE": "0"}

    finished = subprocess.run(
        [sys.executable, "-m", "local"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert finished.stdout == ""
    assert finished.stderr == (
        "cannot start the local system: LOCAL_TIME_SCALE must be a number above 0, not '0'\n"
    )
