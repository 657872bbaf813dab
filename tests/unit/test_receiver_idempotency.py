"""An Idempotency-Key names one refund: a replay answers alike, a different request is a 409."""

import json
import uuid

import pytest

from receiver import handler as receiver_handler
from receiver.logic import IDEMPOTENCY_NAMESPACE
from shared.publisher import RefundPublisher
from shared.repository import RefundRepository

MISSING_QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/no-such-queue"


@pytest.fixture
def queue_down(aws, monkeypatch):
    """SendMessage fails (the queue does not exist) until the returned function is called."""
    monkeypatch.setattr(receiver_handler, "publisher", RefundPublisher(aws.sqs, MISSING_QUEUE))
    return monkeypatch.undo


def refund_ids_queued(aws):
    return [json.loads(message["Body"])["refundId"] for message in aws.receive()]


def test_refund_id_is_derived_from_the_api_key_and_the_idempotency_key(api, request_body):
    reply = api.post(request_body(), {"Idempotency-Key": "key-1"}, api_key_id="client-a")

    expected = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, "client-a:key-1"))
    assert reply.body["refundId"] == expected


def test_same_key_and_same_request_replays_the_same_refund(api, aws, request_body):
    first = api.post(request_body(), {"Idempotency-Key": "key-1"})

    replay = api.post(request_body(), {"Idempotency-Key": "key-1"})

    assert replay.status_code == 202
    assert replay.body == first.body
    assert replay.headers["Location"] == first.headers["Location"]
    assert len(aws.items()) == 1


def test_replay_of_a_pending_refund_queues_it_again_for_the_same_refund(api, aws, request_body):
    refund_id = api.post(request_body(), {"Idempotency-Key": "key-1"}).body["refundId"]

    api.post(request_body(), {"Idempotency-Key": "key-1"})

    assert refund_ids_queued(aws) == [refund_id, refund_id]


def test_replay_of_a_decided_refund_answers_its_status_and_queues_nothing(
    api, aws, processor, request_body
):
    api.post(request_body(), {"Idempotency-Key": "key-1"})
    processor.drain()

    replay = api.post(request_body(), {"Idempotency-Key": "key-1"})

    assert replay.status_code == 202
    assert replay.body["status"] == "APPROVED"
    assert aws.receive() == []


def test_same_amount_written_differently_is_the_same_request(api, aws, request_body):
    first = api.post(request_body(amount="1000.00"), {"Idempotency-Key": "key-1"})

    replay = api.post(request_body(amount="1e3"), {"Idempotency-Key": "key-1"})

    assert replay.status_code == 202
    assert replay.body["refundId"] == first.body["refundId"]


def test_same_reason_with_other_surrounding_spaces_is_the_same_request(api, request_body):
    first = api.post(request_body(reason="damaged"), {"Idempotency-Key": "key-1"})

    replay = api.post(request_body(reason="  damaged "), {"Idempotency-Key": "key-1"})

    assert replay.body["refundId"] == first.body["refundId"]


@pytest.mark.parametrize(
    "change",
    [{"amount": "30.41"}, {"orderId": "order-1002"}, {"reason": "Changed my mind"}],
    ids=["amount", "orderId", "reason"],
)
def test_same_key_with_a_different_request_is_a_conflict(api, aws, request_body, change):
    first = api.post(request_body(), {"Idempotency-Key": "key-1"})
    item_before = aws.item(first.body["refundId"])

    reply = api.post(request_body(**change), {"Idempotency-Key": "key-1"})

    assert reply.status_code == 409
    assert reply.body == {
        "message": "This Idempotency-Key was already used with a different request. A key "
        "names one refund request: send the original request to see its refund, or a new key "
        "for a new refund."
    }
    assert aws.item(first.body["refundId"]) == item_before
    assert len(aws.items()) == 1


def test_idempotency_key_header_is_matched_in_any_letter_case(api, request_body):
    first = api.post(request_body(), {"Idempotency-Key": "key-1"})

    replay = api.post(request_body(), {"idempotency-key": "key-1"})

    assert replay.body["refundId"] == first.body["refundId"]


def test_idempotency_key_is_read_from_multi_value_headers(api, request_body):
    first = api.post(request_body(), {"Idempotency-Key": "key-1"})

    replay = api.post(
        request_body(), {}, multi_value_headers={"IDEMPOTENCY-KEY": ["key-1", "key-1"]}
    )

    assert replay.body["refundId"] == first.body["refundId"]


def test_same_key_from_another_api_key_is_another_refund(api, aws, request_body):
    first = api.post(request_body(), {"Idempotency-Key": "key-1"}, api_key_id="client-a")

    other = api.post(request_body(amount="5.00"), {"Idempotency-Key": "key-1"}, api_key_id="b")

    assert other.status_code == 202
    assert other.body["refundId"] != first.body["refundId"]
    assert len(aws.items()) == 2


def test_idempotency_key_of_128_printable_characters_is_accepted(api, request_body):
    key = ("!~ aZ09" * 19)[:128]

    assert api.post(request_body(), {"Idempotency-Key": key}).status_code == 202


def test_requests_without_a_key_are_separate_refunds(api, aws, request_body):
    first = api.post(request_body())

    second = api.post(request_body())

    assert first.body["refundId"] != second.body["refundId"]
    assert len(aws.items()) == 2


def test_send_failure_after_the_write_is_a_503_telling_the_client_to_retry_with_the_key(
    api, aws, queue_down, request_body
):
    reply = api.post(request_body(), {"Idempotency-Key": "key-1"})

    refund_id = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, "unit-api-key:key-1"))
    assert reply.status_code == 503
    assert reply.headers == {"Content-Type": "application/json"}
    assert reply.body == {
        "message": f"Refund {refund_id} was stored but could not be queued for processing. "
        "Retry the same request with the same Idempotency-Key: the retry queues this refund "
        "and cannot create a second one."
    }
    assert aws.item(refund_id)["status"] == {"S": "PENDING"}


def test_retry_with_the_same_key_after_a_send_failure_queues_the_refund_exactly_once(
    api, aws, queue_down, request_body
):
    failed = api.post(request_body(), {"Idempotency-Key": "key-1"})
    queue_down()

    retry = api.post(request_body(), {"Idempotency-Key": "key-1"})

    refund_id = retry.body["refundId"]
    assert failed.status_code == 503
    assert retry.status_code == 202
    assert retry.body == {"refundId": refund_id, "status": "PENDING"}
    assert retry.headers["Location"] == f"/refunds/{refund_id}"
    assert refund_ids_queued(aws) == [refund_id]
    assert len(aws.items()) == 1


def test_send_failure_without_a_key_advises_sending_one(api, aws, queue_down, request_body):
    reply = api.post(request_body())

    [item] = aws.items()
    refund_id = item["refundId"]["S"]
    assert reply.status_code == 503
    assert reply.body == {
        "message": f"Refund {refund_id} was stored but could not be queued for processing. "
        "Retry with an Idempotency-Key header, so that retries cannot create a second refund."
    }


def test_write_failure_is_a_503_and_sends_nothing(api, aws, monkeypatch, request_body):
    broken = RefundRepository(aws.dynamodb, "no-such-table")
    monkeypatch.setattr(receiver_handler, "repository", broken)

    reply = api.post(request_body(), {"Idempotency-Key": "key-1"})

    assert reply.status_code == 503
    assert reply.body == {
        "message": "The refund store is unavailable. Retry the request; with the same "
        "Idempotency-Key a retry cannot create a second refund."
    }
    assert aws.receive() == []


def test_unexpected_failure_is_a_json_500(api, monkeypatch, request_body):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(receiver_handler, "accept_refund", explode)

    reply = api.post(request_body())

    assert reply.status_code == 500
    assert reply.headers == {"Content-Type": "application/json"}
    assert reply.body == {"message": "Internal error."}
