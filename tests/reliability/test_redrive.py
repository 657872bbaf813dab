"""`make redrive`: the DLQ's messages back to the refund queue, listed first by a dry run.

Locally the messages are moved one by one, because moto has no message move task; on a stage
SQS's own task moves them, which is checked here against botocore's stubs of SQS, CloudFormation
and STS, so no request leaves the machine.
"""

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from local.assembly import load_stage
from local.system import LocalSystem
from reliability.queues import depth, peek, refund_id_of
from reliability.redrive import (
    Queues,
    RedriveError,
    count,
    local_endpoint,
    main,
    move_with_task,
    redrive,
    stage_queues,
)
from tests.e2e.support import eventually
from tests.infrastructure.synth import default_synthesis
from tests.reliability.support import aws, pending_refund, send_copies, stored_item

# Amounts over 1000 are rejected without calling the payment gateway, so its injected timeouts
# cannot send a redriven refund back to the DLQ.
OVER_THE_LIMIT = "5000.00"
DECISION_DEADLINE = 20.0


@pytest.fixture(scope="module")
def cloud_assembly() -> Path:
    return default_synthesis().directory


def environment(system: LocalSystem) -> dict[str, str]:
    return {"LOCAL_AWS_PORT": system.aws_endpoint.rsplit(":", 1)[1]}


def dead_letter_ids(system: LocalSystem) -> list[str]:
    messages = peek(aws(system, "sqs"), system.dead_letter_queue_url)
    return sorted(refund_id_of(message) or "" for message in messages)


def decided(system: LocalSystem, refund_id: str) -> Callable[[], str | None]:
    """A probe for `eventually`: the refund's status once it is no longer PENDING."""

    def status() -> str | None:
        value = str(stored_item(system, refund_id)["status"]["S"])
        return None if value == "PENDING" else value

    return status


@pytest.fixture
def dead_lettered(faulty_system: LocalSystem) -> list[str]:
    """Two PENDING refunds whose messages are in the DLQ, as after three failed receives."""
    refund_ids = [pending_refund(faulty_system, OVER_THE_LIMIT) for _ in range(2)]
    for refund_id in refund_ids:
        send_copies(faulty_system, faulty_system.dead_letter_queue_url, refund_id, 1)
    return refund_ids


def run_main(system: LocalSystem, cloud_assembly: Path, *arguments: str) -> str:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", out)
        status = main(
            ["--cloud-assembly", str(cloud_assembly), *arguments], environ=environment(system)
        )
    assert status == 0
    return out.getvalue()


@pytest.mark.e2e
def test_dry_run_lists_every_dead_letter_and_moves_none(
    faulty_system: LocalSystem, cloud_assembly: Path, dead_lettered: list[str]
) -> None:
    before = dead_letter_ids(faulty_system)

    output = run_main(faulty_system, cloud_assembly, "--dry-run")

    assert all(f"refund_id={refund_id}" in output for refund_id in dead_lettered)
    assert f"dry run: {count(len(before))} would move" in output
    assert dead_letter_ids(faulty_system) == before


@pytest.mark.e2e
def test_redrive_moves_every_dead_letter_back_and_the_refunds_get_decided(
    faulty_system: LocalSystem, cloud_assembly: Path, dead_lettered: list[str]
) -> None:
    waiting = len(dead_letter_ids(faulty_system))

    output = run_main(faulty_system, cloud_assembly)

    assert f"moved {count(waiting)} from {faulty_system.dead_letter_queue_url}" in output
    assert depth(aws(faulty_system, "sqs"), faulty_system.dead_letter_queue_url) == 0
    for refund_id in dead_lettered:
        assert eventually(decided(faulty_system, refund_id), DECISION_DEADLINE) == "REJECTED"


@pytest.mark.e2e
def test_redrive_keeps_each_message_body_and_correlation_id(faulty_system: LocalSystem) -> None:
    sqs = aws(faulty_system, "sqs")
    scratch = {
        name: sqs.create_queue(QueueName=f"redrive-scratch-{name}")["QueueUrl"]
        for name in ("dlq", "queue")
    }
    body = json.dumps({"refundId": "00000000-0000-4000-8000-000000000007"})
    sqs.send_message(
        QueueUrl=scratch["dlq"],
        MessageBody=body,
        MessageAttributes={"correlationId": {"DataType": "String", "StringValue": "corr-7"}},
    )
    queues = Queues(
        description="scratch queues",
        sqs=sqs,
        dead_letter_queue_url=scratch["dlq"],
        dead_letter_queue_arn="",
        queue_url=scratch["queue"],
        queue_arn="",
        move_task=False,
    )

    assert redrive(queues, dry=False, out=io.StringIO()) == 1

    (moved,) = sqs.receive_message(
        QueueUrl=scratch["queue"], MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert moved["Body"] == body
    assert moved["MessageAttributes"]["correlationId"]["StringValue"] == "corr-7"
    assert depth(sqs, scratch["dlq"]) == 0


@pytest.mark.e2e
def test_moto_has_no_message_move_task(faulty_system: LocalSystem) -> None:
    sqs = aws(faulty_system, "sqs")
    arn = sqs.get_queue_attributes(
        QueueUrl=faulty_system.dead_letter_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(SourceArn=arn)

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_the_local_target_is_always_loopback_whatever_the_environment() -> None:
    assert local_endpoint({}) == "http://127.0.0.1:4566"
    assert local_endpoint({"LOCAL_AWS_PORT": "4999", "AWS_ENDPOINT_URL": "http://10.0.0.1"}) == (
        "http://127.0.0.1:4999"
    )


# A deployed stage, with every AWS answer stubbed.

STAGE = "Dev"
DLQ_ARN = "arn:aws:sqs:eu-west-1:222222222222:refunds-dlq"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:222222222222:refunds"


class StubbedSession:
    """A boto3 session whose clients answer from stubs, so no request leaves the machine."""

    def __init__(self) -> None:
        session = boto3.session.Session(
            aws_access_key_id="stub", aws_secret_access_key="stub", region_name="eu-west-1"
        )
        self.clients = {name: session.client(name) for name in ("sts", "cloudformation", "sqs")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}

    def client(self, name: str, region_name: str) -> Any:
        assert region_name == "eu-west-1"
        return self.clients[name]

    def activate(self) -> None:
        for stub in self.stubs.values():
            stub.activate()


def stack_outputs(stateful_stack_name: str) -> dict[str, Any]:
    base = "https://sqs.eu-west-1.amazonaws.com/222222222222"
    outputs = {
        "QueueUrl": f"{base}/refunds",
        "QueueArn": QUEUE_ARN,
        "DeadLetterQueueUrl": f"{base}/refunds-dlq",
        "DeadLetterQueueArn": DLQ_ARN,
    }
    return {
        "Stacks": [
            {
                "StackName": stateful_stack_name,
                "CreationTime": "2026-12-04T10:00:00Z",
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


@pytest.fixture
def stage_session(cloud_assembly: Path) -> StubbedSession:
    session = StubbedSession()
    stack_name = load_stage(cloud_assembly, STAGE).stateful.stack_name
    session.stubs["sts"].add_response("get_caller_identity", {"Account": "222222222222"})
    session.stubs["cloudformation"].add_response(
        "describe_stacks", stack_outputs(stack_name), {"StackName": stack_name}
    )
    return session


def test_a_stage_is_redriven_by_a_message_move_task_from_its_dlq_to_its_queue(
    cloud_assembly: Path, stage_session: StubbedSession
) -> None:
    sqs = stage_session.stubs["sqs"]
    sqs.add_response(
        "start_message_move_task",
        {"TaskHandle": "task-1"},
        {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN},
    )
    for status, moved in (("RUNNING", 3), ("COMPLETED", 7)):
        sqs.add_response(
            "list_message_move_tasks",
            {
                "Results": [
                    {
                        "TaskHandle": "task-1",
                        "Status": status,
                        "SourceArn": DLQ_ARN,
                        "ApproximateNumberOfMessagesMoved": moved,
                    }
                ]
            },
            {"SourceArn": DLQ_ARN, "MaxResults": 1},
        )
    stage_session.activate()
    out = io.StringIO()

    queues = stage_queues(STAGE, cloud_assembly, stage_session)
    moved = move_with_task(queues, out, sleep=lambda seconds: None)

    assert moved == 7
    assert out.getvalue().splitlines()[-1] == f"moved 7 messages from {DLQ_ARN} to {QUEUE_ARN}"


def test_a_stage_dry_run_lists_its_dlq_and_starts_no_task(
    cloud_assembly: Path, stage_session: StubbedSession
) -> None:
    sqs = stage_session.stubs["sqs"]
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": '{"refundId": "00000000-0000-4000-8000-000000000001"}',
        "Attributes": {"ApproximateReceiveCount": "4"},
    }
    sqs.add_response("receive_message", {"Messages": [message]})
    sqs.add_response("receive_message", {"Messages": []})
    sqs.add_response("change_message_visibility_batch", {"Successful": [{"Id": "0"}], "Failed": []})
    stage_session.activate()
    out = io.StringIO()

    redrive(stage_queues(STAGE, cloud_assembly, stage_session), dry=True, out=out)

    lines = out.getvalue().splitlines()
    assert lines[1] == (
        "  refund_id=00000000-0000-4000-8000-000000000001 message_id=m-1 receives=4"
    )
    assert lines[2].startswith("dry run: 1 message would move from")
    sqs.assert_no_pending_responses()


def test_a_stage_is_refused_with_credentials_of_another_account(cloud_assembly: Path) -> None:
    session = StubbedSession()
    session.stubs["sts"].add_response("get_caller_identity", {"Account": "999999999999"})
    session.activate()

    with pytest.raises(RedriveError, match="account 999999999999; stage Dev is in 222222222222"):
        stage_queues(STAGE, cloud_assembly, session)
