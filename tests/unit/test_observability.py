"""Logs carry refund_id and the correlation id and never the reason; metrics carry the stage."""

import json

import pytest


def emf_documents(captured: str) -> list[dict]:
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def metric_values(captured: str, name: str) -> list:
    return [document[name] for document in emf_documents(captured) if name in document]


def test_accepted_refund_is_logged_with_its_id_and_the_request_id(api, request_body, logs):
    refund_id = api.post(request_body(), request_id="request-7").body["refundId"]

    [line] = logs.named("refund accepted")
    assert line["refund_id"] == refund_id
    assert line["correlation_id"] == "request-7"
    assert line["level"] == "INFO"


def test_reason_text_is_never_logged(api, processor, request_body, logs):
    reason = "Personal detail: my neighbour broke it"
    refund_id = api.post(request_body(reason=reason)).body["refundId"]
    processor.drain()
    api.get(refund_id)
    api.post(request_body(reason=reason, orderId="bad id"))

    assert logs.all()
    assert "neighbour" not in logs.text


def test_validation_rejection_logs_field_names_only(api, request_body, logs):
    api.post(request_body(amount='"secret-looking amount"', orderId="x y"))

    [line] = logs.named("refund request rejected by validation")
    assert line["fields"] == ["orderId", "amount"]
    assert "secret-looking" not in logs.text


def test_replay_is_logged_as_a_replay(api, request_body, logs):
    api.post(request_body(), {"Idempotency-Key": "key-1"})
    api.post(request_body(), {"Idempotency-Key": "key-1"})

    [line] = logs.named("refund replayed")
    assert line["status"] == "PENDING"


def test_decision_is_logged_with_the_correlation_id_from_the_message(
    api, processor, request_body, logs
):
    refund_id = api.post(request_body(), request_id="request-9").body["refundId"]

    processor.drain()

    [line] = logs.named("refund decided")
    assert line["refund_id"] == refund_id
    assert line["correlation_id"] == "request-9"
    assert line["status"] == "APPROVED"


def test_message_without_a_correlation_id_is_logged_under_its_message_id(
    processor, sqs_records, logs
):
    processor.run([sqs_records("not json", "message-77")])

    [line] = logs.named("message failed")
    assert line["correlation_id"] == "message-77"
    assert line["error"] == "body must be valid JSON"


def test_keys_of_one_record_do_not_leak_into_the_next(processor, sqs_records, logs):
    body = json.dumps({"refundId": "0f0f0f0f-1111-4222-8333-444444444444"})

    processor.run([sqs_records(body, "first", "corr-1"), sqs_records("{}", "second", "corr-2")])

    first, second = logs.named("message failed")
    assert first["refund_id"] == "0f0f0f0f-1111-4222-8333-444444444444"
    assert "refund_id" not in second
    assert second["correlation_id"] == "corr-2"


def test_publish_failure_log_says_the_client_was_told_to_retry_with_the_key(
    api, aws, request_body, logs, monkeypatch
):
    from receiver import handler as receiver_handler
    from shared.publisher import RefundPublisher

    missing = "https://sqs.eu-west-1.amazonaws.com/123456789012/no-such-queue"
    monkeypatch.setattr(receiver_handler, "publisher", RefundPublisher(aws.sqs, missing))

    api.post(request_body(), {"Idempotency-Key": "key-1"})

    [line] = logs.named(
        "refund stored but not queued; client told to retry with the same idempotency key"
    )
    assert line["level"] == "ERROR"
    assert line["status_code"] == 503


def test_accepted_refund_counts_in_refunds_accepted_for_the_stage(api, request_body, capsys):
    api.post(request_body())

    captured = capsys.readouterr().out
    assert metric_values(captured, "RefundsAccepted") == [[1.0]]
    [document] = [d for d in emf_documents(captured) if "RefundsAccepted" in d]
    assert document["stage"] == "Local"
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "RefundAutomation"


@pytest.mark.parametrize(
    ("amount", "metric"), [("10.00", "RefundsApproved"), ("1000.01", "RefundsRejected")]
)
def test_decision_counts_in_its_metric(api, processor, request_body, capsys, amount, metric):
    api.post(request_body(amount=amount))
    capsys.readouterr()

    processor.drain()

    assert metric_values(capsys.readouterr().out, metric) == [[1.0]]


def test_failed_records_count_in_refunds_failed(processor, sqs_records, capsys):
    processor.run([sqs_records("not json", "a"), sqs_records("[]", "b")])

    assert metric_values(capsys.readouterr().out, "RefundsFailed") == [[2.0]]
