"""Fault injection: where the stage enables it, a marked refund's gateway call always times out."""

import json

import pytest

SIMULATE = {"X-Simulate-Failure": "payment-gateway-timeout"}


def test_marker_header_is_stored_on_the_refund_when_enabled(
    api, aws, request_body, fault_injection
):
    refund_id = api.post(request_body(), SIMULATE).body["refundId"]

    assert aws.item(refund_id)["simulateFailure"] == {"S": "payment-gateway-timeout"}


def test_marker_header_is_matched_in_any_letter_case(api, aws, request_body, fault_injection):
    headers = {"x-simulate-failure": "payment-gateway-timeout"}

    refund_id = api.post(request_body(), headers).body["refundId"]

    assert aws.item(refund_id)["simulateFailure"] == {"S": "payment-gateway-timeout"}


def test_unknown_marker_is_a_400_naming_the_header(api, aws, request_body, fault_injection):
    reply = api.post(request_body(), {"X-Simulate-Failure": "database-on-fire"})

    assert reply.status_code == 400
    assert reply.body["errors"] == [
        {"field": "X-Simulate-Failure", "message": "must be one of: payment-gateway-timeout"}
    ]
    assert aws.items() == []


def test_marker_header_is_ignored_when_fault_injection_is_off(api, aws, request_body):
    marked = api.post(request_body(), SIMULATE)
    unknown = api.post(request_body(), {"X-Simulate-Failure": "database-on-fire"})

    assert marked.status_code == unknown.status_code == 202
    assert "simulateFailure" not in aws.item(marked.body["refundId"])


def test_marker_is_part_of_the_idempotent_request(api, request_body, fault_injection):
    api.post(request_body(), {"Idempotency-Key": "key-1"})

    reply = api.post(request_body(), {"Idempotency-Key": "key-1", **SIMULATE})

    assert reply.status_code == 409


def test_marked_refund_times_out_at_the_gateway_and_stays_pending(
    api, aws, processor, request_body, fault_injection, logs
):
    refund_id = api.post(request_body(), SIMULATE).body["refundId"]
    [message] = aws.receive(visibility_timeout=0)

    failed = processor.drain()

    assert failed == [message["MessageId"]]
    assert aws.item(refund_id)["status"] == {"S": "PENDING"}
    [line] = logs.named("gateway failed")
    assert line["refund_id"] == refund_id
    assert line["error"] == f"payment gateway timed out for refund {refund_id}"


def test_marked_refund_times_out_on_every_attempt(
    api, aws, processor, request_body, fault_injection
):
    refund_id = api.post(request_body(), SIMULATE).body["refundId"]

    attempts = [processor.drain(visibility_timeout=0) for _ in range(5)]

    assert all(len(failed) == 1 for failed in attempts)
    assert aws.item(refund_id)["status"] == {"S": "PENDING"}


def test_marked_refund_over_the_limit_is_rejected_without_the_gateway(
    api, aws, processor, request_body, fault_injection
):
    refund_id = api.post(request_body(amount="1500.00"), SIMULATE).body["refundId"]

    assert processor.drain() == []
    assert aws.item(refund_id)["status"] == {"S": "REJECTED"}


def test_marker_is_ignored_by_a_processor_without_fault_injection(
    api, aws, processor, request_body, fault_injection
):
    refund_id = api.post(request_body(), SIMULATE).body["refundId"]
    fault_injection.setenv("FAULT_INJECTION_ENABLED", "false")

    assert processor.drain() == []
    assert aws.item(refund_id)["status"] == {"S": "APPROVED"}


def test_gateway_timeout_rate_of_one_fails_every_approval(
    api, aws, processor, request_body, fault_injection
):
    fault_injection.setenv("GATEWAY_TIMEOUT_RATE", "1")
    approvable = api.post(request_body(amount="10.00")).body["refundId"]
    rejectable = api.post(request_body(amount="5000.00")).body["refundId"]

    failed = processor.drain()

    assert len(failed) == 1
    assert aws.item(approvable)["status"] == {"S": "PENDING"}
    assert aws.item(rejectable)["status"] == {"S": "REJECTED"}


def test_gateway_timeout_rate_is_ignored_without_fault_injection(
    api, aws, processor, request_body, monkeypatch
):
    monkeypatch.setenv("GATEWAY_TIMEOUT_RATE", "1")
    refund_id = api.post(request_body()).body["refundId"]

    assert processor.drain() == []
    assert aws.item(refund_id)["status"] == {"S": "APPROVED"}


@pytest.fixture
def queue_with_dead_letters(aws):
    """A queue that moves a message to its dead-letter queue after three receives."""
    sqs = aws.sqs
    dlq_url = sqs.create_queue(QueueName="refunds-unit-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    dlq_arn = attributes["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    queue_url = sqs.create_queue(
        QueueName="refunds-unit-redriven", Attributes={"RedrivePolicy": redrive}
    )["QueueUrl"]
    return queue_url, dlq_url


def test_failing_message_lands_in_the_dead_letter_queue_after_the_maximum_receives(
    api, aws, processor, request_body, fault_injection, queue_with_dead_letters
):
    queue_url, dlq_url = queue_with_dead_letters
    refund_id = api.post(request_body(), SIMULATE).body["refundId"]
    [message] = aws.receive()
    aws.sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])

    attempts = [processor.drain(queue_url, visibility_timeout=0) for _ in range(4)]

    assert [len(failed) for failed in attempts] == [1, 1, 1, 0]
    [dead] = aws.receive(dlq_url)
    assert json.loads(dead["Body"]) == {"refundId": refund_id}
    assert aws.item(refund_id)["status"] == {"S": "PENDING"}
