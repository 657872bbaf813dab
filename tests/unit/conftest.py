"""Unit-suite fixtures: a moto table and queue, and small clients that drive the real handlers."""

import base64
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "eu-west-1"
TABLE_NAME = "refunds-unit"
QUEUE_NAME = "refunds-unit"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/{QUEUE_NAME}"
API_KEY_ID = "unit-api-key"

# The handlers read their settings and create their clients when first imported, which happens
# after this module runs: the environment must already be the test one by then. moto is imported
# above, before any client exists, so every client is intercepted by it.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "TABLE_NAME": TABLE_NAME,
        "QUEUE_URL": QUEUE_URL,
        "STAGE": "Local",
        "POWERTOOLS_SERVICE_NAME": "refunds-unit",
        "POWERTOOLS_METRICS_NAMESPACE": "RefundAutomation",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "FAULT_INJECTION_ENABLED": "false",
    }
)
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "GATEWAY_TIMEOUT_RATE", "PROCESSOR_CRASH_RATE"):
    os.environ.pop(name, None)


def pytest_configure(config: pytest.Config) -> None:
    # A rejected request publishes no metric, and Powertools warns about that; it is expected.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish")


@dataclass
class LambdaContext:
    function_name: str = "refunds-unit"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:refunds-unit"
    aws_request_id: str = "11111111-2222-4333-8444-555555555555"


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    queue_url: str = QUEUE_URL

    def item(self, refund_id: str) -> dict[str, Any] | None:
        key = {"PK": {"S": f"REFUND#{refund_id}"}, "SK": {"S": "REFUND"}}
        response = self.dynamodb.get_item(TableName=TABLE_NAME, Key=key, ConsistentRead=True)
        return response.get("Item")

    def items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=TABLE_NAME)["Items"]

    def receive(self, queue_url: str | None = None, visibility_timeout: int = 30) -> list[dict]:
        """Every visible message of the queue, once each. With a visibility timeout of 0 they
        stay visible, so a later receive sees them again, as a redelivery would."""
        messages: dict[str, dict] = {}
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url or self.queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=visibility_timeout,
            ).get("Messages", [])
            fresh = [message for message in batch if message["MessageId"] not in messages]
            if not fresh:
                return list(messages.values())
            messages.update((message["MessageId"], message) for message in fresh)


@pytest.fixture(scope="session")
def clients() -> tuple[Any, Any]:
    """Clients for the tests' own look-ups, made once: building a client costs tens of ms."""
    return boto3.client("dynamodb"), boto3.client("sqs")


@pytest.fixture
def aws(clients: tuple[Any, Any]) -> Iterator[Aws]:
    """A fresh moto account for one test, with the table and queue the handlers are told of."""
    dynamodb, sqs = clients
    with mock_aws():
        dynamodb.create_table(
            TableName=TABLE_NAME,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        assert sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"] == QUEUE_URL
        yield Aws(dynamodb=dynamodb, sqs=sqs)


@dataclass
class Reply:
    status_code: Any
    headers: dict[str, str]
    raw_body: Any
    body: Any = field(init=False)

    def __post_init__(self) -> None:
        self.body = json.loads(self.raw_body, parse_float=Decimal)

    @property
    def fields(self) -> list[str]:
        return [error["field"] for error in self.body.get("errors", [])]


def api_event(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    base64_encoded: bool = False,
    api_key_id: str | None = API_KEY_ID,
    path_parameters: dict[str, str] | None = None,
    multi_value_headers: dict[str, list[str]] | None = None,
    request_id: str = "request-0001",
) -> dict[str, Any]:
    """An API Gateway REST proxy event, shaped the way the gateway delivers it."""
    headers = dict(headers or {})
    identity: dict[str, Any] = {"sourceIp": "127.0.0.1", "apiKeyId": api_key_id}
    return {
        "resource": "/refunds/{refundId}" if path_parameters else "/refunds",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_value_headers
        if multi_value_headers is not None
        else {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "pathParameters": path_parameters,
        "requestContext": {
            "requestId": request_id,
            "stage": "Local",
            "httpMethod": method,
            "identity": identity,
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


@dataclass
class Api:
    """Calls the receiver and the status reader the way the gateway would."""

    def post(
        self,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        base64_encoded: bool = False,
        encode: bool = True,
        content_type: str | None = "application/json",
        **event_options: Any,
    ) -> Reply:
        """Post `body` (JSON text, or data to serialize); with base64_encoded the event carries it
        base64-encoded, unless `encode` is false and `body` is already the event's body."""
        from receiver.handler import lambda_handler

        text = body if body is None or isinstance(body, str) else json.dumps(body)
        if base64_encoded and encode and text is not None:
            text = base64.b64encode(text.encode("utf-8")).decode("ascii")
        headers = dict(headers or {})
        if content_type is not None:
            headers = {"Content-Type": content_type, **headers}
        event = api_event(
            "POST", "/refunds", text, headers, base64_encoded=base64_encoded, **event_options
        )
        return self.call(lambda_handler, event)

    def get(self, refund_id: str | None, **event_options: Any) -> Reply:
        from status.handler import lambda_handler

        parameters = None if refund_id is None else {"refundId": refund_id}
        path = f"/refunds/{refund_id}"
        event = api_event("GET", path, path_parameters=parameters, **event_options)
        return self.call(lambda_handler, event)

    @staticmethod
    def call(handler: Any, event: dict[str, Any]) -> Reply:
        response = handler(event, LambdaContext())
        return Reply(response["statusCode"], response["headers"], response["body"])


@pytest.fixture
def api(aws: Aws) -> Api:
    return Api()


@pytest.fixture
def submit(api: Api, request_body: Any) -> Any:
    """Accept a refund through the receiver and return its id; its message is on the queue."""

    def post(amount: str = "30.40", headers: dict[str, str] | None = None, **fields: Any) -> str:
        reply = api.post(request_body(amount=amount, **fields), headers)
        assert reply.status_code == 202
        return str(reply.body["refundId"])

    return post


def sqs_record(
    body: str | None, message_id: str = "message-1", correlation_id: str | None = None
) -> dict[str, Any]:
    """One record of an SQS event, shaped the way Lambda's event source mapping delivers it."""
    attributes = {}
    if correlation_id is not None:
        attributes["correlationId"] = {"stringValue": correlation_id, "dataType": "String"}
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": attributes,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{QUEUE_NAME}",
        "awsRegion": REGION,
    }


def record_from_message(message: dict[str, Any]) -> dict[str, Any]:
    attribute = message.get("MessageAttributes", {}).get("correlationId")
    correlation_id = None if attribute is None else attribute["StringValue"]
    record = sqs_record(message["Body"], message["MessageId"], correlation_id)
    record["receiptHandle"] = message["ReceiptHandle"]
    return record


@dataclass
class Processor:
    """Runs the processor handler on records, or on the queue's messages as Lambda would."""

    aws: Aws

    def run(self, records: list[dict[str, Any]]) -> list[str]:
        """The message ids the processor reported as failed."""
        from processor.handler import lambda_handler

        response = lambda_handler({"Records": records}, LambdaContext())
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def drain(self, queue_url: str | None = None, visibility_timeout: int = 30) -> list[str]:
        """Process every visible message in one batch; delete those that succeeded."""
        queue_url = queue_url or self.aws.queue_url
        # One receive, as the event source mapping does: each counts towards maxReceiveCount.
        messages = self.aws.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=visibility_timeout,
        ).get("Messages", [])
        failed = self.run([record_from_message(message) for message in messages])
        for message in messages:
            if message["MessageId"] not in failed:
                self.aws.sqs.delete_message(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return failed


@pytest.fixture
def processor(aws: Aws) -> Processor:
    return Processor(aws)


@pytest.fixture
def sqs_records() -> Any:
    return sqs_record


@pytest.fixture
def fault_injection(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Fault injection enabled for this test; further knobs can be set on the returned patch."""
    monkeypatch.setenv("FAULT_INJECTION_ENABLED", "true")
    return monkeypatch


@dataclass
class LogLines:
    stream: io.StringIO

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def named(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.all() if line["message"] == message]

    @property
    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def logs() -> Iterator[LogLines]:
    """The structured log lines the functions write during the test."""
    from shared.observability import logger

    handler = logger.registered_handler
    assert hasattr(handler, "setStream")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield LogLines(buffer)
    finally:
        handler.setStream(previous)


_ABSENT = object()
_AMOUNT = "__amount__"


@pytest.fixture
def absent() -> object:
    """A marker to pass to request_body for a field that must be left out."""
    return _ABSENT


@pytest.fixture
def request_body() -> Any:
    """A factory for a valid request body as JSON text; `amount` is the raw JSON number text."""

    def build(amount: Any = "30.40", **overrides: Any) -> str:
        fields = {"orderId": "order-1001", "amount": _AMOUNT, "reason": "Item arrived damaged"}
        fields |= overrides
        if amount is _ABSENT:
            del fields["amount"]
        fields = {name: value for name, value in fields.items() if value is not _ABSENT}
        # The amount goes in as written, so the JSON text holds exactly that number literal.
        return json.dumps(fields, ensure_ascii=False).replace(json.dumps(_AMOUNT), str(amount))

    return build
