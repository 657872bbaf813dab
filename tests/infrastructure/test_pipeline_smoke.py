"""The pipeline's smoke test, run against a stub stage API on 127.0.0.1 and a moto secret."""

import ast
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stacks.pipeline.smoke import checks

SCRIPT = Path(checks.__file__)
API_KEY = "smoke-test-key-0123456789abcdef"
STAGE_PATH = "/prod"
FAST = ["--poll-interval", "0.01", "--decision-timeout", "0.3", "--key-wait", "0.3"]


@dataclass
class StubStage:
    """A refund API that behaves like a deployed stage, with switches to make it misbehave."""

    requires_key: bool = True
    decides: bool = True
    key_refusals_left: int = 0
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str, bool]] = field(default_factory=list)

    def answer(self, method: str, path: str, key: str | None, body: bytes) -> tuple[int, Any]:
        self.requests.append((method, path, key is not None))
        if key is not None and self.key_refusals_left > 0:
            self.key_refusals_left -= 1
            return 403, {"message": "Forbidden"}
        if self.requires_key and key != API_KEY:
            return 403, {"message": "Forbidden"}
        if method == "POST" and path == "/refunds":
            return self._create(body)
        if method == "GET" and path.startswith("/refunds/"):
            return self._read(path.removeprefix("/refunds/"))
        return 404, {"message": "Not Found"}

    def _create(self, body: bytes) -> tuple[int, Any]:
        request = json.loads(body, parse_float=Decimal)
        if not isinstance(request.get("amount"), int | Decimal):
            return 400, {"message": "Invalid request body"}
        refund_id = str(uuid.uuid4())
        self.refunds[refund_id] = {**request, "refundId": refund_id, "status": "PENDING"}
        return 202, {"refundId": refund_id, "status": "PENDING"}

    def _read(self, refund_id: str) -> tuple[int, Any]:
        refund = self.refunds.get(refund_id)
        if refund is None:
            return 404, {"message": "refund not found"}

        # The processor takes a moment: the first reads still see PENDING.
        self.reads[refund_id] = self.reads.get(refund_id, 0) + 1
        if self.decides and self.reads[refund_id] > 2:
            refund["status"] = "REJECTED" if refund["amount"] > 1000 else "APPROVED"
        return 200, {key: str(value) for key, value in refund.items()}


# The stub and the URL it answers on.
Served = tuple[StubStage, str]


@pytest.fixture
def stub_stage() -> Iterator[Served]:
    stub = StubStage()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            path = self.path.removeprefix(STAGE_PATH)
            status, payload = stub.answer(self.command, path, self.headers["x-api-key"], body)
            encoded = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        do_GET = _reply  # noqa: N815 - the names http.server dispatches to
        do_POST = _reply  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub, f"http://127.0.0.1:{server.server_address[1]}{STAGE_PATH}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def secret_arn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("API_URL", raising=False)
    monkeypatch.delenv("API_KEY_SECRET_ID", raising=False)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        yield client.create_secret(Name="Refunds-Dev-ApiKey", SecretString=API_KEY)["ARN"]


def _run(url: str, secret: str, mode: str) -> int:
    return checks.main(["--api-url", url, "--secret-id", secret, "--mode", mode, *FAST])


def test_read_only_checks_pass_against_a_working_stage_and_create_no_refund(
    stub_stage: Served, secret_arn: str
) -> None:
    stub, url = stub_stage

    assert _run(url, secret_arn, checks.READ_ONLY) == 0
    assert stub.refunds == {}


def test_read_only_checks_create_no_refund_even_where_the_key_check_is_missing(
    stub_stage: Served, secret_arn: str
) -> None:
    stub, url = stub_stage
    stub.requires_key = False

    _run(url, secret_arn, checks.READ_ONLY)

    assert stub.refunds == {}


def test_full_checks_see_5_approved_and_5000_rejected(
    stub_stage: Served, secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, url = stub_stage

    assert _run(url, secret_arn, checks.FULL) == 0

    decided = sorted((refund["amount"], refund["status"]) for refund in stub.refunds.values())
    assert decided == [(5, "APPROVED"), (5000, "REJECTED")]
    output = capsys.readouterr().out
    assert "PASS  a refund of 5 is approved" in output
    assert "PASS  a refund of 5000 is rejected" in output


def test_stage_that_answers_without_a_key_fails_the_smoke_test(
    stub_stage: Served, secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, url = stub_stage
    stub.requires_key = False

    assert _run(url, secret_arn, checks.READ_ONLY) == 1
    assert "FAIL  a read without a key is refused: expected 403, got 404" in capsys.readouterr().out


def test_refund_never_decided_fails_after_the_decision_timeout(
    stub_stage: Served, secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, url = stub_stage
    stub.decides = False

    assert _run(url, secret_arn, checks.FULL) == 1
    output = capsys.readouterr().out
    assert "FAIL  a refund of 5 is approved: refund " in output
    assert "still PENDING after 0.3 s" in output


def test_new_key_is_waited_for_until_the_gateway_accepts_it(
    stub_stage: Served, secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, url = stub_stage
    stub.key_refusals_left = 3

    assert _run(url, secret_arn, checks.READ_ONLY) == 0
    assert "PASS  the stage's key is accepted: 404" in capsys.readouterr().out


def test_key_refused_beyond_the_wait_fails(
    stub_stage: Served, secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, url = stub_stage
    stub.key_refusals_left = 10**6

    assert _run(url, secret_arn, checks.READ_ONLY) == 1
    assert "FAIL  the stage's key is accepted: the key was still refused after 0.3 s" in (
        capsys.readouterr().out
    )


def test_api_key_is_never_printed(
    stub_stage: Served, secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, url = stub_stage
    stub.decides = False

    _run(url, secret_arn, checks.FULL)

    captured = capsys.readouterr()
    assert API_KEY not in captured.out + captured.err


def test_url_and_secret_come_from_the_environment(
    stub_stage: Served, secret_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = stub_stage
    monkeypatch.setenv("API_URL", url)
    monkeypatch.setenv("API_KEY_SECRET_ID", secret_arn)

    assert checks.main(["--mode", checks.READ_ONLY, *FAST]) == 0


def test_without_a_url_nothing_is_called(
    secret_arn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        checks.main(["--secret-id", secret_arn, "--mode", checks.READ_ONLY])

    assert exit_info.value.code == 2
    assert "no API URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url",
    ["http://refunds.example.com/prod", "ftp://127.0.0.1/prod", "https:///prod", "127.0.0.1:3000"],
)
def test_url_must_be_https_unless_it_is_this_machine(url: str) -> None:
    with pytest.raises(ValueError, match="must be https"):
        checks.validated_base_url(url)


def test_https_url_loses_its_trailing_slash() -> None:
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"

    assert (
        checks.validated_base_url(url) == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    )


def test_secret_is_read_in_the_region_its_arn_names(secret_arn: str) -> None:
    assert checks.secret_region(secret_arn) == "eu-west-1"
    assert checks.read_api_key(secret_arn) == API_KEY


def test_script_imports_only_the_standard_library_and_boto3() -> None:
    tree = ast.parse(SCRIPT.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }

    assert imported - set(sys.stdlib_module_names) == {"boto3"}
