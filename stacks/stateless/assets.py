"""Function code assets: the services folder, narrowed to one function's folder and shared/."""

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

# Absolute, so that synthesis gives the same asset from any working directory.
SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
SHARED_FOLDER = "shared"

# Glob patterns in .gitignore style, applied in order: drop everything, let the function's folder
# and shared/ back in, then drop what must never ship (caches, tests, local state).
_NEVER_SHIPPED = [
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/tests",
    "**/test_*.py",
    "**/conftest.py",
    "**/.DS_Store",
]


def asset_exclusions(function_folder: str) -> list[str]:
    kept = [function_folder, SHARED_FOLDER]
    return [
        "*",
        *[f"!{folder}" for folder in kept],
        *[f"!{folder}/**" for folder in kept],
        *_NEVER_SHIPPED,
    ]


def function_code(function_folder: str) -> lambda_.Code:
    return lambda_.Code.from_asset(str(SERVICES_DIR), exclude=asset_exclusions(function_folder))
