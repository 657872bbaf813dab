"""docs/postman_collection.json: a Postman v2.1 collection of the guide's requests, true to the API.

Newman is not a project dependency, so these tests read the collection themselves: its shape is
what Newman needs, and each request, sent to the local system in order, answers with the status
code of the example saved under it.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from local.system import LocalSystem

pytestmark = pytest.mark.e2e

COLLECTION = Path(__file__).resolve().parents[2] / "docs" / "postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_VARIABLE = re.compile(r"\{\{(\w+)\}\}")


@pytest.fixture(scope="module")
def collection() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(COLLECTION.read_text())
    return loaded


def test_collection_declares_the_v2_1_schema(collection: dict[str, Any]) -> None:
    assert collection["info"]["schema"] == SCHEMA


def test_collection_is_configured_by_base_url_and_api_key(collection: dict[str, Any]) -> None:
    variables = {variable["key"]: variable["value"] for variable in collection["variable"]}

    assert variables["baseUrl"] == "http://127.0.0.1:3000"
    assert variables["apiKey"] == ""


def test_every_request_goes_to_the_base_url_and_checks_its_answer(
    collection: dict[str, Any],
) -> None:
    for item in collection["item"]:
        assert item["request"]["url"]["raw"].startswith("{{baseUrl}}/refunds"), item["name"]
        assert [event["listen"] for event in item["event"]] == ["test"], item["name"]
        assert item["response"][0]["code"] in (200, 202, 400, 403, 404), item["name"]


def test_every_raw_body_is_json(collection: dict[str, Any]) -> None:
    with_body = [item["request"] for item in collection["item"] if "body" in item["request"]]

    assert len(with_body) == 5
    assert all(isinstance(json.loads(r["body"]["raw"]), dict) for r in with_body)


def _substitute(text: str, variables: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda match: variables[match.group(1)], text)


def test_every_request_answers_as_its_saved_example(
    collection: dict[str, Any], local_system: LocalSystem
) -> None:
    variables = {
        "baseUrl": local_system.api_url,
        "apiKey": local_system.api_key,
        "refundId": "",
    }
    with requests.Session() as session:
        for item in collection["item"]:
            request = item["request"]
            response = session.request(
                request["method"],
                _substitute(request["url"]["raw"], variables),
                headers={
                    header["key"]: _substitute(header["value"], variables)
                    for header in request["header"]
                },
                data=request.get("body", {}).get("raw"),
                timeout=10,
            )

            assert response.status_code == item["response"][0]["code"], item["name"]
            if response.status_code == 202:
                variables["refundId"] = response.json()["refundId"]
