"""The local gateway's and poller's rules, checked on the synthesized API without any process.

A stand-in replaces the function workers, so each test can make a function answer as it needs:
crash, answer badly, or record the event it was given.
"""

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.api import RestApi, read_rest_api
from local.assembly import QUEUE_TYPE, TABLE_TYPES, load_stage
from local.aws import LocalQueue
from local.functions import FunctionDefinition, Invocation, read_functions
from local.gateway import Gateway, HttpRequest
from local.intrinsics import PhysicalResource, Resolver
from local.poller import failed_message_ids, sqs_record
from local.validation import body_errors

pytestmark = pytest.mark.e2e

KEY = "the-local-key"
REFUND_ID = "7ba54fe5-4675-4b00-bac0-068cc152ace9"


@dataclass
class StandInFunction:
    definition: FunctionDefinition
    answer: Invocation = field(default_factory=lambda: Invocation("request", result=None))
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.definition.function_name

    def invoke(self, event: dict[str, Any], trace_id: str | None = None) -> Invocation:
        self.events.append(event)
        return self.answer


@dataclass
class Api:
    gateway: Gateway
    rest_api: RestApi
    functions: dict[str, StandInFunction]

    def function_for(self, path: str, method: str) -> StandInFunction:
        route = self.rest_api.route(path)
        assert route is not None
        arn = route.resource.methods[method].function_arn
        return next(f for f in self.functions.values() if f.definition.arn == arn)

    def send(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        request = HttpRequest(
            method=method,
            target=target,
            headers=[("x-api-key", KEY), *(headers or [])],
            body=body,
            source_ip="127.0.0.1",
        )
        response = self.gateway.handle(request)
        return response.status, response.headers, response.body


@pytest.fixture
def api(cloud_assembly: Path) -> Api:
    assembly = load_stage(cloud_assembly, "Dev")
    resolver = Resolver(assembly)
    stateful = assembly.stateful
    for logical_id in stateful.resources(*TABLE_TYPES, QUEUE_TYPE):
        resolver.register(
            stateful,
            logical_id,
            PhysicalResource(ref=logical_id, attributes={"Arn": f"arn:local:{logical_id}"}),
        )
    definitions = read_functions(assembly.stateless, resolver, assembly.region, assembly.account)
    functions = {d.logical_id: StandInFunction(d) for d in definitions.values()}
    rest_api = read_rest_api(assembly.stateless, resolver)
    gateway = Gateway(
        api=rest_api,
        functions_by_arn={f.definition.arn: f for f in functions.values()},
        api_key=KEY,
        api_key_id="key-id",
        account=assembly.account,
    )
    return Api(gateway, rest_api, functions)


def _template_stage_name(cloud_assembly: Path) -> str:
    stateless = load_stage(cloud_assembly, "Dev").stateless
    (stage,) = stateless.resources("AWS::ApiGateway::Stage").values()
    return str(stage["Properties"]["StageName"])


def test_a_function_error_answers_502_with_the_default_5xx_body(api: Api) -> None:
    api.function_for("/refunds", "POST").answer = Invocation(
        "request", error={"errorType": "RuntimeError", "errorMessage": "boom"}
    )

    status, _, body = api.send("POST", "/refunds", b'{"orderId":"o-1","amount":1,"reason":"r"}')

    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}


def test_a_malformed_proxy_answer_answers_502(api: Api) -> None:
    api.function_for("/refunds/{refundId}", "GET").answer = Invocation(
        "request", result={"statusCode": 200, "body": {"not": "a string"}}
    )

    status, _, body = api.send("GET", f"/refunds/{REFUND_ID}")

    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}


def test_the_function_answer_is_copied_to_the_client(api: Api) -> None:
    api.function_for("/refunds/{refundId}", "GET").answer = Invocation(
        "request", result={"statusCode": 201, "headers": {"X-Extra": "yes"}, "body": "{}"}
    )

    status, headers, body = api.send("GET", f"/refunds/{REFUND_ID}")

    assert (status, headers["X-Extra"], body) == (201, "yes", b"{}")


def test_the_proxy_event_names_the_stage_request_and_api_key(
    api: Api, cloud_assembly: Path
) -> None:
    function = api.function_for("/refunds/{refundId}", "GET")

    _, headers, _ = api.send("GET", f"/refunds/{REFUND_ID}")

    context = function.events[-1]["requestContext"]
    assert context["stage"] == _template_stage_name(cloud_assembly)
    assert context["requestId"] == headers["x-amzn-RequestId"]
    assert context["identity"]["apiKeyId"] == "key-id"
    assert context["resourcePath"] == "/refunds/{refundId}"


def test_path_and_query_parameters_reach_the_function(api: Api) -> None:
    function = api.function_for("/refunds/{refundId}", "GET")

    api.send("GET", f"/refunds/{REFUND_ID}?view=full&view=short")

    event = function.events[-1]
    assert event["pathParameters"] == {"refundId": REFUND_ID}
    assert event["queryStringParameters"] == {"view": "short"}
    assert event["multiValueQueryStringParameters"] == {"view": ["full", "short"]}


def test_a_body_that_is_not_utf8_reaches_the_function_base64_encoded(api: Api) -> None:
    function = api.function_for("/refunds", "POST")

    # No model is declared for this content type, so the gateway does not validate the body.
    api.send("POST", "/refunds", b"\xff\xfe", [("Content-Type", "application/octet-stream")])

    event = function.events[-1]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"


def test_a_json_body_reaches_the_function_as_text(api: Api) -> None:
    function = api.function_for("/refunds", "POST")
    body = '{"orderId":"o-1","amount":1,"reason":"été"}'

    api.send("POST", "/refunds", body.encode(), [("Content-Type", "application/json")])

    event = function.events[-1]
    assert (event["isBase64Encoded"], event["body"]) == (False, body)


def test_a_body_without_content_type_is_validated_as_json(api: Api) -> None:
    status, _, _ = api.send("POST", "/refunds", b'{"orderId": "o-1"}')

    assert status == 400


def test_a_body_too_deep_for_a_recursive_model_is_refused_as_nested_too_deeply() -> None:
    # Shallow enough to parse, too deep for the validator to walk a model that refers to itself.
    recursive_model = {"type": "array", "items": {"$ref": "#"}}

    errors = body_errors(recursive_model, "[" * 900 + "]" * 900)

    assert errors == ["Invalid JSON: nested too deeply"]


IDS = ["a", "b", "c"]


def test_a_function_error_returns_the_whole_batch() -> None:
    failed = Invocation("r", error={"errorType": "Runtime.ExitError", "errorMessage": "x"})

    assert failed_message_ids(failed, IDS, partial=True) == {"a", "b", "c"}


def test_reported_item_failures_return_only_those_records() -> None:
    answer = Invocation("r", result={"batchItemFailures": [{"itemIdentifier": "b"}]})

    assert failed_message_ids(answer, IDS, partial=True) == {"b"}


def test_no_reported_failures_delete_the_whole_batch() -> None:
    results: list[dict[str, Any] | None] = [
        None,
        {},
        {"batchItemFailures": []},
        {"batchItemFailures": None},
    ]
    for result in results:
        assert failed_message_ids(Invocation("r", result=result), IDS, partial=True) == set()


def test_an_unknown_or_empty_item_identifier_returns_the_whole_batch() -> None:
    for identifier in ("z", "", None):
        answer = Invocation("r", result={"batchItemFailures": [{"itemIdentifier": identifier}]})

        assert failed_message_ids(answer, IDS, partial=True) == {"a", "b", "c"}


def test_item_failures_are_ignored_without_report_batch_item_failures() -> None:
    answer = Invocation("r", result={"batchItemFailures": [{"itemIdentifier": "b"}]})

    assert failed_message_ids(answer, IDS, partial=False) == set()


def test_a_record_is_shaped_like_lambdas_sqs_event() -> None:
    queue = LocalQueue("Q", "q", "http://127.0.0.1/q", "arn:aws:sqs:eu-west-1:1:q", 3, 3, None)
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "h-1",
        "Body": '{"refundId": "r-1"}',
        "Attributes": {"ApproximateReceiveCount": "2"},
        "MessageAttributes": {"correlationId": {"StringValue": "c-1", "DataType": "String"}},
    }

    record = sqs_record(message, queue, "eu-west-1")

    assert record["messageAttributes"]["correlationId"] == {
        "stringValue": "c-1",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        "arn:aws:sqs:eu-west-1:1:q",
        "eu-west-1",
    )
