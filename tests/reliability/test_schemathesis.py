"""schemathesis against the local system, from docs/openapi.json's source: no answer is a 5xx,
every request outside the contract is refused with 400, no 4xx leaves a refund stored, and every
success has the documented body.

Whether a request is inside the contract is judged here, with the document's own schemas, rather
than taken from the generator: a "negative" case can happen to be valid. Inside the contract the
receiver may still refuse what the model cannot express (more than two decimals, a reason over
500 characters once trimmed), and a generated Idempotency-Key may repeat with another body (409).
"""

import json
import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft4Validator
from schemathesis import GenerationMode

from local.system import LocalSystem
from reliability.openapi import API_KEY_HEADER, document
from tests.reliability.support import aws, pending_refund

pytestmark = pytest.mark.e2e

DOCUMENT = document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
COMPONENTS = DOCUMENT["components"]
BODY = Draft4Validator(COMPONENTS["schemas"]["RefundRequest"])
IDEMPOTENCY_KEY = COMPONENTS["parameters"]["IdempotencyKey"]
REFUND_ID = COMPONENTS["parameters"]["RefundId"]
EXAMPLES = {"POST": 30, "GET": 20}
# The documented body of each success, checked on every one the run gets.
SUCCESS_BODIES = {
    202: Draft4Validator(COMPONENTS["schemas"]["RefundAccepted"]),
    200: Draft4Validator(COMPONENTS["schemas"]["Refund"]),
}

# Within the contract: what each operation may answer.
ACCEPTABLE = {"POST": {202, 400, 409}, "GET": {200, 404}}


def _matches(parameter: dict[str, Any], value: object) -> bool:
    return isinstance(value, str) and re.search(parameter["schema"]["pattern"], value) is not None


def within_contract(case: Any) -> bool:
    """Does the generated request satisfy the document: body, media type, headers, path?"""
    if case.method == "GET":
        return _matches(REFUND_ID, (case.path_parameters or {}).get("refundId"))
    headers = {name.lower(): value for name, value in (case.headers or {}).items()}
    key = headers.get(IDEMPOTENCY_KEY["name"].lower())
    if key is not None and not _matches(IDEMPOTENCY_KEY, key):
        return False
    if case.media_type != "application/json":
        return False
    try:
        body = json.loads(json.dumps(case.body))
    except (TypeError, ValueError):
        return False
    return BODY.is_valid(body)


def routes_to_a_refund(case: Any) -> bool:
    """An id that adds or removes a path segment no longer names GET /refunds/{refundId}."""
    refund_id = (case.path_parameters or {}).get("refundId")
    return isinstance(refund_id, str) and refund_id != "" and "/" not in refund_id


def stored_count(system: LocalSystem) -> int:
    paginator = aws(system, "dynamodb").get_paginator("scan")
    pages = paginator.paginate(TableName=system.table_name, Select="COUNT", ConsistentRead=True)
    return sum(page["Count"] for page in pages)


def auth(system: LocalSystem) -> dict[str, str]:
    return {API_KEY_HEADER: system.api_key}


def judge(system: LocalSystem, case: Any) -> None:
    # Judged before the call, which writes the path parameters back URL-encoded.
    inside = within_contract(case)
    routed = routes_to_a_refund(case)
    before = stored_count(system)

    response = case.call(base_url=system.api_url, headers=auth(system))

    status = response.status_code
    assert status < 500, (status, response.text)
    if response.request.headers.get(API_KEY_HEADER) != system.api_key:
        # A negative case may leave the key out on purpose; the key is checked before anything.
        assert status == 403, (status, response.text)
    elif inside:
        assert status in ACCEPTABLE[case.method], (status, response.text)
    elif case.method == "GET" and not routed:
        # API Gateway's answer to a path with no such resource.
        assert status == 403, (status, response.text)
    else:
        assert status == 400, (status, response.text)
    if status in SUCCESS_BODIES:
        SUCCESS_BODIES[status].validate(response.json())
    if 400 <= status < 500:
        assert stored_count(system) == before


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_the_answer_the_contract_gives_them(
    faulty_system: LocalSystem, method: str, mode: GenerationMode
) -> None:
    path = "/refunds" if method == "POST" else "/refunds/{refundId}"
    operation = SCHEMA[path][method]

    @settings(
        max_examples=EXAMPLES[method],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answered_as_the_contract_says(case: Any) -> None:
        judge(faulty_system, case)

    answered_as_the_contract_says()


def test_reading_a_stored_refund_answers_the_documented_body(faulty_system: LocalSystem) -> None:
    refund_id = pending_refund(faulty_system, "5000.00")
    operation = SCHEMA["/refunds/{refundId}"]["GET"]
    statuses: list[int] = []

    @settings(max_examples=3, deadline=None, database=None, derandomize=True)
    @given(case=operation.as_strategy(path_parameters={"refundId": refund_id}))
    def answered_with_the_refund(case: Any) -> None:
        response = case.call(base_url=faulty_system.api_url, headers=auth(faulty_system))
        statuses.append(response.status_code)
        SUCCESS_BODIES[200].validate(response.json())

    answered_with_the_refund()

    assert set(statuses) == {200}
