"""Smoke test of one deployed stage: calls its API and checks the answers that prove it works.

CodeBuild runs this file directly after a stage deploys, so it needs only the standard library and
boto3. The API URL and the secret holding the API key come from the arguments or from the
environment (API_URL, API_KEY_SECRET_ID); there is no default host. Mode "read-only" sends only
requests that change nothing; mode "full" also creates two refunds and waits for their decisions.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

READ_ONLY = "read-only"
FULL = "full"
URL_VARIABLE = "API_URL"
# Holds the secret's ARN (or name), never the key itself.
KEY_VARIABLE = "API_KEY_SECRET_ID"

# Plain HTTP is accepted only on this machine (local runs and tests): the API key would otherwise
# cross a network in clear text.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DECIDED = frozenset({"APPROVED", "REJECTED"})


class CheckFailedError(Exception):
    """A stage answered, but not as a working stage must."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


@dataclass(frozen=True)
class Timing:
    decision_timeout: float = 60.0
    poll_interval: float = 2.0
    # A key or usage plan created by this very deployment takes a while to reach every gateway node;
    # until then a correct key is refused with 403.
    key_wait: float = 60.0
    request_timeout: float = 10.0


def validated_base_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "https" and bool(parts.hostname)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (secure or local):
        raise ValueError(f"API URL must be https (or http on this machine only): {url!r}")
    return url.rstrip("/")


def secret_region(secret_id: str) -> str | None:
    """A secret in another account is named by its ARN, which also names the region it lives in."""
    parts = secret_id.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "secretsmanager":
        return parts[3]
    return None


def read_api_key(secret_id: str) -> str:
    client = boto3.client("secretsmanager", region_name=secret_region(secret_id))
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])


class StageApi:
    """The two routes of one stage, with or without its API key."""

    def __init__(self, base_url: str, api_key: str, request_timeout: float) -> None:
        self._base_url = validated_base_url(base_url)
        self._api_key = api_key
        self._request_timeout = request_timeout

    def create_refund(self, payload: dict[str, Any], *, with_key: bool = True) -> Reply:
        return self._send("POST", "/refunds", json.dumps(payload).encode(), with_key)

    def read_refund(self, refund_id: str, *, with_key: bool = True) -> Reply:
        return self._send("GET", f"/refunds/{urllib.parse.quote(refund_id)}", None, with_key)

    def _send(self, method: str, path: str, body: bytes | None, with_key: bool) -> Reply:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if with_key:
            headers["x-api-key"] = self._api_key
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked in __init__
            self._base_url + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self._request_timeout) as response:  # noqa: S310
                return Reply(response.status, _parse_json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, _parse_json(error.read()))


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _expect_status(reply: Reply, expected: int) -> None:
    if reply.status != expected:
        raise CheckFailedError(f"expected {expected}, got {reply.status} {json.dumps(reply.body)}")


def _valid_refund(amount: int) -> dict[str, Any]:
    return {
        "orderId": f"smoke-{uuid.uuid4().hex}",
        "amount": amount,
        "reason": "pipeline smoke test",
    }


@dataclass
class Smoke:
    api: StageApi
    timing: Timing
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def read_without_key_is_refused(self) -> str:
        _expect_status(self.api.read_refund(str(uuid.uuid4()), with_key=False), 403)
        return "403"

    def create_without_key_is_refused(self) -> str:
        _expect_status(self.api.create_refund(_valid_refund(5), with_key=False), 403)
        return "403"

    def key_is_accepted(self) -> str:
        deadline = self.clock() + self.timing.key_wait
        reply = self.api.read_refund(str(uuid.uuid4()))
        while reply.status == 403 and self.clock() < deadline:
            self.sleep(self.timing.poll_interval)
            reply = self.api.read_refund(str(uuid.uuid4()))
        if reply.status == 403:
            raise CheckFailedError(f"the key was still refused after {self.timing.key_wait:g} s")
        return str(reply.status)

    def invalid_body_is_rejected(self) -> str:
        invalid = {"orderId": "smoke", "amount": "five", "reason": "pipeline smoke test"}
        _expect_status(self.api.create_refund(invalid), 400)
        return "400"

    def unknown_refund_is_not_found(self) -> str:
        _expect_status(self.api.read_refund(str(uuid.uuid4())), 404)
        return "404"

    def small_refund_is_approved(self) -> str:
        return self._decided(5, "APPROVED")

    def large_refund_is_rejected(self) -> str:
        return self._decided(5000, "REJECTED")

    def _decided(self, amount: int, expected: str) -> str:
        reply = self.api.create_refund(_valid_refund(amount))
        _expect_status(reply, 202)
        refund_id = str(reply.body["refundId"])

        status = self._wait_for_decision(refund_id)
        if status != expected:
            raise CheckFailedError(
                f"refund {refund_id} of {amount} ended {status}, expected {expected}"
            )
        return f"refund {refund_id} {status}"

    def _wait_for_decision(self, refund_id: str) -> str:
        deadline = self.clock() + self.timing.decision_timeout
        status = "unknown"
        while True:
            reply = self.api.read_refund(refund_id)
            # Right after acceptance the status reader may not see the refund yet: 404 means wait.
            if reply.status == 200:
                status = str(reply.body["status"])
            elif reply.status != 404:
                raise CheckFailedError(f"reading refund {refund_id} gave {reply.status}")
            if status in DECIDED:
                return status
            if self.clock() >= deadline:
                raise CheckFailedError(
                    f"refund {refund_id} still {status} after {self.timing.decision_timeout:g} s"
                )
            self.sleep(self.timing.poll_interval)

    def checks(self, mode: str) -> list[tuple[str, Callable[[], str]]]:
        read_only = [
            ("a read without a key is refused", self.read_without_key_is_refused),
            ("the stage's key is accepted", self.key_is_accepted),
            ("an invalid body is rejected", self.invalid_body_is_rejected),
            ("an unknown refund is not found", self.unknown_refund_is_not_found),
        ]
        if mode == READ_ONLY:
            return read_only
        return [
            *read_only,
            ("a refund without a key is refused", self.create_without_key_is_refused),
            ("a refund of 5 is approved", self.small_refund_is_approved),
            ("a refund of 5000 is rejected", self.large_refund_is_rejected),
        ]


def run_checks(checks: Sequence[tuple[str, Callable[[], str]]]) -> bool:
    passed = True
    for name, check in checks:
        try:
            outcome = check()
        except (CheckFailedError, OSError, ValueError, KeyError, TypeError) as error:
            print(f"FAIL  {name}: {error}", flush=True)
            passed = False
        else:
            print(f"PASS  {name}: {outcome}", flush=True)
    return passed


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", default=os.environ.get(URL_VARIABLE))
    parser.add_argument("--secret-id", default=os.environ.get(KEY_VARIABLE))
    parser.add_argument("--mode", choices=(READ_ONLY, FULL), required=True)
    parser.add_argument("--decision-timeout", type=float, default=Timing.decision_timeout)
    parser.add_argument("--poll-interval", type=float, default=Timing.poll_interval)
    parser.add_argument("--key-wait", type=float, default=Timing.key_wait)
    args = parser.parse_args(argv)
    if not args.api_url:
        parser.error(f"no API URL: pass --api-url or set {URL_VARIABLE}")
    if not args.secret_id:
        parser.error(f"no secret: pass --secret-id or set {KEY_VARIABLE}")
    try:
        validated_base_url(args.api_url)
    except ValueError as error:
        parser.error(str(error))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    timing = Timing(
        decision_timeout=args.decision_timeout,
        poll_interval=args.poll_interval,
        key_wait=args.key_wait,
    )

    api = StageApi(args.api_url, read_api_key(args.secret_id), timing.request_timeout)
    print(f"smoke test ({args.mode}) of {args.api_url}", flush=True)
    passed = run_checks(Smoke(api, timing).checks(args.mode))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
