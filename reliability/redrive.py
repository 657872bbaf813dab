"""`make redrive`: moves the dead-letter queue's messages back to the refund queue.

    python -m reliability.redrive [--dry-run]                 # the local system (make local)
    python -m reliability.redrive --stage Dev [--dry-run]     # a deployed stage, named explicitly

Without --stage it only ever talks to moto on 127.0.0.1 (port LOCAL_AWS_PORT, default 4566).
With --stage it uses the caller's AWS credentials, refuses any account but the stage's, finds
the queues in the stateful stack's outputs and lets SQS move the messages with a message move
task. moto has no message move task, so locally each message is received from the DLQ, sent to
the refund queue and only then deleted: a crash in between leaves a copy in both, which the
processor absorbs (it decides each refund once). A dry run lists what would move and moves
nothing.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from local.assembly import AssemblyError, load_stage
from local.aws import LOCAL_HOST, client
from local.system import Settings
from reliability.queues import PEEK_VISIBILITY_SECONDS, SQS_BATCH_LIMIT, peek, refund_id_of

QUEUE_ARN_OUTPUT = "QueueArn"
QUEUE_URL_OUTPUT = "QueueUrl"
DEAD_LETTER_QUEUE_ARN_OUTPUT = "DeadLetterQueueArn"
DEAD_LETTER_QUEUE_URL_OUTPUT = "DeadLetterQueueUrl"
# On SQS a short receive samples only some servers; a long poll sees the whole queue.
_STAGE_WAIT_SECONDS = 2
_TASK_POLL_SECONDS = 5.0
_TASK_TIMEOUT_SECONDS = 900.0


class RedriveError(Exception):
    """The queues cannot be found, or the credentials belong to another account."""


@dataclass(frozen=True)
class Queues:
    """Where messages come from and go to, and how to reach them."""

    description: str
    sqs: Any
    dead_letter_queue_url: str
    dead_letter_queue_arn: str
    queue_url: str
    queue_arn: str
    # On AWS, SQS moves the messages itself; locally they are moved one by one.
    move_task: bool
    wait_seconds: int = 0


def local_endpoint(environ: Mapping[str, str]) -> str:
    """moto on this machine; nothing in the environment can point it anywhere else."""
    return f"http://{LOCAL_HOST}:{Settings.from_environment(environ).aws_port}"


def _attribute(sqs: Any, url: str, name: str) -> str | None:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name]).get("Attributes", {})
    value = attributes.get(name)
    return None if value is None else str(value)


def local_queues(endpoint: str, region: str) -> Queues:
    """The local system's queues: the one queue with a redrive policy, and its DLQ."""
    sqs = client("sqs", endpoint, region)
    try:
        urls = sqs.list_queues().get("QueueUrls", [])
    except (BotoCoreError, ClientError) as error:
        raise RedriveError(
            f"no local system answers at {endpoint} (make local): {error}"
        ) from error
    sources = []
    for url in urls:
        policy = _attribute(sqs, url, "RedrivePolicy")
        if policy:
            sources.append((url, json.loads(policy)["deadLetterTargetArn"]))
    if len(sources) != 1:
        raise RedriveError(
            f"expected one queue with a dead-letter queue at {endpoint}, found {len(sources)}"
        )
    queue_url, dead_letter_arn = sources[0]
    (dead_letter_url,) = [u for u in urls if _attribute(sqs, u, "QueueArn") == dead_letter_arn]
    return Queues(
        description=f"the local system at {endpoint}",
        sqs=sqs,
        dead_letter_queue_url=dead_letter_url,
        dead_letter_queue_arn=dead_letter_arn,
        queue_url=queue_url,
        queue_arn=str(_attribute(sqs, queue_url, "QueueArn")),
        move_task=False,
    )


def stage_queues(stage: str, cloud_assembly: Path, session: Any) -> Queues:
    """A deployed stage's queues, from its stateful stack's outputs, in the stage's account."""
    assembly = load_stage(cloud_assembly, stage)
    stack_name = assembly.stateful.stack_name
    account = session.client("sts", region_name=assembly.region).get_caller_identity()["Account"]
    if account != assembly.account:
        raise RedriveError(
            f"the credentials are for account {account}; stage {stage} is in {assembly.account}"
        )
    cloudformation = session.client("cloudformation", region_name=assembly.region)
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    wanted = (
        QUEUE_URL_OUTPUT,
        QUEUE_ARN_OUTPUT,
        DEAD_LETTER_QUEUE_URL_OUTPUT,
        DEAD_LETTER_QUEUE_ARN_OUTPUT,
    )
    missing = [name for name in wanted if name not in outputs]
    if missing:
        raise RedriveError(f"stack {stack_name} has no output {', '.join(missing)}")
    return Queues(
        description=f"stage {stage} (stack {stack_name}, account {account}, {assembly.region})",
        sqs=session.client("sqs", region_name=assembly.region),
        dead_letter_queue_url=outputs[DEAD_LETTER_QUEUE_URL_OUTPUT],
        dead_letter_queue_arn=outputs[DEAD_LETTER_QUEUE_ARN_OUTPUT],
        queue_url=outputs[QUEUE_URL_OUTPUT],
        queue_arn=outputs[QUEUE_ARN_OUTPUT],
        move_task=True,
        wait_seconds=_STAGE_WAIT_SECONDS,
    )


def count(messages: int) -> str:
    return f"{messages} message" if messages == 1 else f"{messages} messages"


def _describe(message: dict[str, Any]) -> str:
    receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
    refund_id = refund_id_of(message) or "(unreadable body)"
    return f"  refund_id={refund_id} message_id={message['MessageId']} receives={receives}"


def dry_run(queues: Queues, out: TextIO) -> int:
    """List what a redrive would move; move nothing. Returns the number of messages."""
    messages = peek(queues.sqs, queues.dead_letter_queue_url, wait_seconds=queues.wait_seconds)
    for message in messages:
        print(_describe(message), file=out)
    print(
        f"dry run: {count(len(messages))} would move from {queues.dead_letter_queue_url} "
        f"to {queues.queue_url}",
        file=out,
    )
    return len(messages)


def _attributes_to_send(message: dict[str, Any]) -> dict[str, Any]:
    kept = ("DataType", "StringValue", "BinaryValue")
    return {
        name: {key: value for key, value in attribute.items() if key in kept}
        for name, attribute in message.get("MessageAttributes", {}).items()
    }


def move_one_by_one(queues: Queues, out: TextIO) -> int:
    """Receive from the DLQ, send to the queue, then delete from the DLQ. Returns the count."""
    sqs, moved = queues.sqs, 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=queues.dead_letter_queue_url,
            MaxNumberOfMessages=SQS_BATCH_LIMIT,
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            WaitTimeSeconds=queues.wait_seconds,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        sent = sqs.send_message_batch(
            QueueUrl=queues.queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": message["Body"],
                    "MessageAttributes": _attributes_to_send(message),
                }
                for index, message in enumerate(messages)
            ],
        )
        done = [messages[int(entry["Id"])] for entry in sent.get("Successful", [])]
        for failure in sent.get("Failed", []):
            print(
                f"  not moved: {_describe(messages[int(failure['Id'])])}: "
                f"{failure.get('Message', failure.get('Code'))}",
                file=out,
            )
        if done:
            sqs.delete_message_batch(
                QueueUrl=queues.dead_letter_queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )
        for message in done:
            print(_describe(message), file=out)
        moved += len(done)
        if len(done) < len(messages):
            break
    print(
        f"moved {count(moved)} from {queues.dead_letter_queue_url} to {queues.queue_url}",
        file=out,
    )
    return moved


def move_with_task(
    queues: Queues,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = _TASK_TIMEOUT_SECONDS,
) -> int:
    """Start SQS's message move task to the refund queue and wait for it to finish."""
    sqs = queues.sqs
    handle = sqs.start_message_move_task(
        SourceArn=queues.dead_letter_queue_arn, DestinationArn=queues.queue_arn
    )["TaskHandle"]
    print(f"started message move task {handle}", file=out)
    waited = 0.0
    while True:
        tasks = sqs.list_message_move_tasks(
            SourceArn=queues.dead_letter_queue_arn, MaxResults=1
        ).get("Results", [])
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        status = task.get("Status", "UNKNOWN")
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if status not in ("RUNNING", "CANCELLING"):
            break
        if waited >= timeout:
            print(f"message move task still {status} after {timeout:.0f} s", file=out)
            break
        sleep(_TASK_POLL_SECONDS)
        waited += _TASK_POLL_SECONDS
    if status != "COMPLETED":
        reason = task.get("FailureReason", "")
        raise RedriveError(f"message move task {status} after moving {moved} messages {reason}")
    print(
        f"moved {count(moved)} from {queues.dead_letter_queue_arn} to {queues.queue_arn}",
        file=out,
    )
    return moved


def redrive(queues: Queues, dry: bool, out: TextIO) -> int:
    print(f"redrive on {queues.description}", file=out)
    if dry:
        return dry_run(queues, out)
    if queues.move_task:
        return move_with_task(queues, out)
    return move_one_by_one(queues, out)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reliability.redrive", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--stage",
        help="a deployed stage (Dev, Prod) to redrive with your AWS credentials; "
        "without it, the local system",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would move, move none")
    parser.add_argument(
        "--cloud-assembly",
        type=Path,
        help="the synthesized app that names the stage's stacks, account and region "
        "(default: cdk.out, or LOCAL_CLOUD_ASSEMBLY for the local system)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    args = _arguments(argv)
    try:
        if args.stage:
            cloud_assembly = args.cloud_assembly or Settings().cloud_assembly
            queues = stage_queues(args.stage, cloud_assembly, boto3.session.Session())
        else:
            settings = Settings.from_environment(environ)
            assembly = load_stage(args.cloud_assembly or settings.cloud_assembly, settings.stage)
            queues = local_queues(local_endpoint(environ), assembly.region)
        redrive(queues, args.dry_run, sys.stdout)
    except (RedriveError, AssemblyError, BotoCoreError, ClientError) as error:
        print(f"redrive failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
