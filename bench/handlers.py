"""Warm handler cost: CPU time per invocation against moto in-process, against the bare calls.

Each function runs in a child process of its own (`python -m bench.handlers`), because the
handlers read their environment and create their clients when imported. The child times, in
alternating rounds after a warm-up, the real handler on real events and then only the boto3 calls
that handler makes, against the same moto. It also counts the bytes the handler writes to stdout,
which in Lambda is what CloudWatch Logs ingests.
"""

import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.commands import python_json
from bench.figures import Figure, Goal, median
from bench.functions import REPOSITORY, BenchFunction
from bench.items import accept, item_key, pending_item, utc_now

GOAL = Goal(limit=1.5)
TABLE_NAME = "refunds-bench"
QUEUE_NAME = "refunds-bench"


@dataclass(frozen=True)
class HandlerCost:
    figure: Figure
    log_bytes_per_invocation: float


def measure(function: BenchFunction, invocations: int, rounds: int) -> HandlerCost:
    settings = {
        "folder": function.folder,
        "code_root": str(function.code_root),
        "invocations": invocations,
        "rounds": rounds,
        "table_keys": dict(function.table_keys),
    }
    result = python_json(
        ["-m", "bench.handlers", json.dumps(settings)],
        REPOSITORY,
        function.child_environment(endpoint_url=None),
    )
    figure = Figure(
        name=f"handler_{function.folder}",
        value=median(result["handler_ms"]),
        baseline=median(result["baseline_ms"]),
        unit="ms CPU/invocation",
        goal=GOAL,
    )
    return HandlerCost(figure=figure, log_bytes_per_invocation=result["log_bytes"])


# Everything below runs in the child.


class _CountingStream:
    """Stands in for stdout: counts what the function logs instead of printing it."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@dataclass
class _Workload:
    """One function's invocation and the bare calls it makes, each ready to run once more."""

    invoke: Callable[[], Any]
    bare: Callable[[], Any]


def _api_event(method: str, path: str, body: str | None, refund_id: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    return {
        "resource": "/refunds/{refundId}" if refund_id else "/refunds",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "pathParameters": {"refundId": refund_id} if refund_id else None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "bench",
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1", "apiKeyId": "bench-key"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _context(folder: str) -> Any:
    from local.functions import LambdaContext

    return LambdaContext(
        {
            "function_name": f"bench-{folder}",
            "invoked_function_arn": f"arn:aws:lambda:eu-west-1:123456789012:function:{folder}",
            "memory_limit_in_mb": int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
            "aws_request_id": str(uuid.uuid4()),
            "log_stream_name": "bench",
            "deadline": time.time() + 3600,
        }
    )


def _expect(answer: Any, wanted: dict[str, Any]) -> None:
    """A benchmark of the error path would flatter the handler: every answer must succeed."""
    if {key: answer.get(key) for key in wanted} != wanted:
        raise RuntimeError(f"unexpected answer {answer!r}, wanted {wanted!r}")


def _receiver(handler: Any, dynamodb: Any, sqs: Any, queue_url: str, needed: int) -> _Workload:
    body = json.dumps({"orderId": "order-1001", "amount": 30.40, "reason": "Item arrived damaged"})
    context = _context("receiver")

    def bare() -> None:
        accept(dynamodb, sqs, TABLE_NAME, queue_url, str(uuid.uuid4()))

    def invoke() -> None:
        _expect(handler(_api_event("POST", "/refunds", body, None), context), {"statusCode": 202})

    return _Workload(invoke=invoke, bare=bare)


def _pending(dynamodb: Any, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for refund_id in ids:
        dynamodb.put_item(TableName=TABLE_NAME, Item=pending_item(refund_id))
    return ids


def _processor(handler: Any, dynamodb: Any, sqs: Any, queue_url: str, needed: int) -> _Workload:
    for_handler = iter(_pending(dynamodb, needed))
    for_bare = iter(_pending(dynamodb, needed))
    context = _context("processor")

    def invoke() -> None:
        refund_id = next(for_handler)
        record = {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": "bench",
            "body": json.dumps({"refundId": refund_id}),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {
                "correlationId": {"stringValue": refund_id, "dataType": "String"}
            },
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:eu-west-1:123456789012:{QUEUE_NAME}",
            "awsRegion": "eu-west-1",
        }
        _expect(handler({"Records": [record]}, context), {"batchItemFailures": []})

    def bare() -> None:
        refund_id = next(for_bare)
        dynamodb.get_item(TableName=TABLE_NAME, Key=item_key(refund_id), ConsistentRead=True)
        dynamodb.update_item(
            TableName=TABLE_NAME,
            Key=item_key(refund_id),
            UpdateExpression=(
                "SET #status = :status, decidedAt = :decided_at, updatedAt = :decided_at, "
                "paymentReference = :payment_reference"
            ),
            ConditionExpression="attribute_exists(PK) AND #status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":status": {"S": "APPROVED"},
                ":decided_at": {"S": utc_now()},
                ":pending": {"S": "PENDING"},
                ":payment_reference": {"S": f"sim-{refund_id}"},
            },
        )

    return _Workload(invoke=invoke, bare=bare)


def _status(handler: Any, dynamodb: Any, sqs: Any, queue_url: str, needed: int) -> _Workload:
    (refund_id,) = _pending(dynamodb, 1)
    context = _context("status")

    def invoke() -> None:
        event = _api_event("GET", f"/refunds/{refund_id}", None, refund_id)
        _expect(handler(event, context), {"statusCode": 200})

    return _Workload(
        invoke=invoke,
        bare=lambda: dynamodb.get_item(
            TableName=TABLE_NAME, Key=item_key(refund_id), ConsistentRead=True
        ),
    )


_WORKLOADS = {"receiver": _receiver, "processor": _processor, "status": _status}
_WARM_UP = 10


def _cpu_ms_per_call(call: Callable[[], Any], count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) * 1000 / count


def _child(settings: dict[str, Any]) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    stream = _CountingStream()
    real_stdout = sys.stdout
    invocations, rounds = int(settings["invocations"]), int(settings["rounds"])
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        dynamodb.create_table(
            TableName=TABLE_NAME, BillingMode="PAY_PER_REQUEST", **settings["table_keys"]
        )
        queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        os.environ.update({"TABLE_NAME": TABLE_NAME, "QUEUE_URL": queue_url})

        # The loggers bind to stdout when the handler module creates them.
        sys.stdout = stream  # type: ignore[assignment]
        sys.path.insert(0, settings["code_root"])
        module = __import__(f"{settings['folder']}.handler", fromlist=["lambda_handler"])
        needed = _WARM_UP + invocations * rounds
        workload = _WORKLOADS[settings["folder"]](
            module.lambda_handler, dynamodb, sqs, queue_url, needed
        )
        for _ in range(_WARM_UP):
            workload.invoke()
            workload.bare()

        handler_ms, baseline_ms, logged = [], [], 0
        for _ in range(rounds):
            before = stream.bytes
            handler_ms.append(_cpu_ms_per_call(workload.invoke, invocations))
            logged += stream.bytes - before
            baseline_ms.append(_cpu_ms_per_call(workload.bare, invocations))
    sys.stdout = real_stdout
    return {
        "handler_ms": handler_ms,
        "baseline_ms": baseline_ms,
        "log_bytes": logged / (invocations * rounds),
    }


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))))
    sys.exit(0)
