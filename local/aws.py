"""The AWS side of the local run: moto's server, and the table and queues of the stateful stack."""

import contextlib
import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local.assembly import QUEUE_TYPE, TABLE_TYPES, Stack
from local.intrinsics import PhysicalResource, Resolver, UnresolvableReferenceError

LOCAL_HOST = "127.0.0.1"
# moto accepts any credentials; these only keep boto3 from looking for real ones.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "SqsManagedSseEnabled",
)
# Encryption with a customer key has no local meaning: moto stores messages in memory.
_IGNORED_QUEUE_PROPERTIES = ("KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "Tags")

log = logging.getLogger("local.aws")


@dataclass(frozen=True)
class LocalTable:
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class LocalQueue:
    logical_id: str
    name: str
    url: str
    arn: str
    visibility_timeout: int
    max_receive_count: int | None
    dead_letter_arn: str | None


@dataclass(frozen=True)
class LocalResources:
    tables: dict[str, LocalTable]
    queues: dict[str, LocalQueue]

    def queue_by_arn(self, arn: str) -> LocalQueue:
        for queue in self.queues.values():
            if queue.arn == arn:
                return queue
        raise UnresolvableReferenceError(f"no local queue has the ARN {arn}")


def client(service: str, endpoint_url: str, region: str, config: Config | None = None) -> Any:
    """A boto3 client for the local moto server; never for AWS itself."""
    session = boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    return session.client(service, endpoint_url=endpoint_url, config=config)


def _serve_moto(conn: Connection, port: int, account: str, log_path: str) -> None:
    """Child process: moto's server, until the parent says stop or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    # Every ARN moto hands out then names the stage's account, as the templates do.
    os.environ["MOTO_ACCOUNT_ID"] = account
    try:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        server = make_server(LOCAL_HOST, port, app, True, request_handler=MotoRequestHandler)
    except SystemExit:
        # werkzeug exits, after saying so in the log, when the port is taken.
        conn.send(("error", "the port is in use"))
        return
    except Exception as error:
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(("ready", server.server_port))
    with contextlib.suppress(EOFError):
        conn.recv()
    server.shutdown()


class MotoServer:
    """moto's server in a child process of its own, so it never competes with the gateway's GIL."""

    def __init__(self, port: int, account: str, log_path: Path) -> None:
        self._requested_port = port
        self._account = account
        self._log_path = log_path
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self.port = port

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve_moto,
            args=(child_end, self._requested_port, self._account, str(self._log_path)),
            name="moto",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        self._conn = parent_end
        if not parent_end.poll(timeout):
            self.stop()
            raise RuntimeError(f"moto did not start within {timeout:.0f} s")
        try:
            state, detail = parent_end.recv()
        except EOFError:
            state, detail = "error", f"exited, see {self._log_path}"
        if state != "ready":
            self.stop()
            raise RuntimeError(
                f"moto could not listen on port {self._requested_port} ({detail}); "
                "LOCAL_AWS_PORT chooses another"
            )
        self.port = int(detail)

    @property
    def pid(self) -> int:
        if self._process is None or self._process.pid is None:
            raise RuntimeError("moto's server is not running")
        return self._process.pid

    def exit_code(self) -> int | None:
        """The code moto's process exited with; None while it runs (or before it starts)."""
        if self._process is None or self._process.is_alive():
            return None
        return self._process.exitcode

    def accepts_connections(self) -> bool:
        """False only when the port refuses: a slow answer is a busy server, not a gone one."""
        try:
            with socket.create_connection((LOCAL_HOST, self.port), timeout=1):
                return True
        except ConnectionRefusedError:
            return False
        except OSError:
            return True

    def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None


def _table_request(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    pay_per_request = properties.get("BillingMode", "PAY_PER_REQUEST") == "PAY_PER_REQUEST"
    throughput = properties.get(
        "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    )

    def index(raw: dict[str, Any], provisioned: bool) -> dict[str, Any]:
        shaped = {key: raw[key] for key in ("IndexName", "KeySchema", "Projection")}
        if provisioned:
            shaped["ProvisionedThroughput"] = raw.get("ProvisionedThroughput", throughput)
        return shaped

    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST" if pay_per_request else "PROVISIONED",
    }
    if not pay_per_request:
        request["ProvisionedThroughput"] = throughput
    if properties.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            index(raw, not pay_per_request) for raw in properties["GlobalSecondaryIndexes"]
        ]
    if properties.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = [
            index(raw, False) for raw in properties["LocalSecondaryIndexes"]
        ]
    stream = properties.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    return request


def _create_tables(stack: Stack, resolver: Resolver, dynamodb: Any) -> dict[str, LocalTable]:
    tables = {}
    for logical_id, resource in stack.resources(*TABLE_TYPES).items():
        properties = resolver.resolve(stack, resource.get("Properties", {}))
        name = properties.get("TableName", logical_id)
        description = dynamodb.create_table(**_table_request(name, properties))["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled", True) and ttl.get("AttributeName"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        attributes = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes["StreamArn"] = description["LatestStreamArn"]
        resolver.register(stack, logical_id, PhysicalResource(ref=name, attributes=attributes))
        tables[logical_id] = LocalTable(logical_id, name, description["TableArn"])
        log.debug("created table %s", name)
    return tables


def scaled_seconds(seconds: float, time_scale: float, minimum: int) -> int:
    """A duration from a template, shortened by the local time scale."""
    return max(minimum, round(seconds / time_scale))


def _create_queue(
    stack: Stack, logical_id: str, properties: dict[str, Any], sqs: Any, time_scale: float
) -> LocalQueue:
    fifo = str(properties.get("FifoQueue", "false")).lower() == "true"
    name = properties.get("QueueName") or (f"{logical_id}.fifo" if fifo else logical_id)
    attributes = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key in _QUEUE_ATTRIBUTES
        if (value := properties.get(key)) is not None
    }
    visibility_timeout = scaled_seconds(
        float(properties.get("VisibilityTimeout", 30)), time_scale, 1
    )
    attributes["VisibilityTimeout"] = str(visibility_timeout)
    redrive = properties.get("RedrivePolicy")
    if redrive:
        attributes["RedrivePolicy"] = json.dumps(redrive)
    if properties.get("RedriveAllowPolicy"):
        attributes["RedriveAllowPolicy"] = json.dumps(properties["RedriveAllowPolicy"])
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return LocalQueue(
        logical_id=logical_id,
        name=name,
        url=url,
        arn=arn,
        visibility_timeout=visibility_timeout,
        max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
        dead_letter_arn=redrive["deadLetterTargetArn"] if redrive else None,
    )


def _create_queues(
    stack: Stack, resolver: Resolver, sqs: Any, time_scale: float
) -> dict[str, LocalQueue]:
    """Queues in dependency order: a dead-letter queue exists before the queue that names it."""
    pending = dict(stack.resources(QUEUE_TYPE))
    queues: dict[str, LocalQueue] = {}
    while pending:
        progress = False
        for logical_id, resource in list(pending.items()):
            try:
                properties = resolver.resolve(stack, resource.get("Properties", {}))
            except UnresolvableReferenceError:
                continue
            ignored = [key for key in _IGNORED_QUEUE_PROPERTIES if key in properties]
            if ignored:
                log.debug("queue %s: %s have no local effect", logical_id, ", ".join(ignored))
            queue = _create_queue(stack, logical_id, properties, sqs, time_scale)
            resolver.register(
                stack,
                logical_id,
                PhysicalResource(
                    ref=queue.url,
                    attributes={"Arn": queue.arn, "QueueName": queue.name, "QueueUrl": queue.url},
                ),
            )
            queues[logical_id] = queue
            del pending[logical_id]
            progress = True
        if not progress:
            raise UnresolvableReferenceError(f"cannot create queues {sorted(pending)}")
    return queues


def provision(
    stack: Stack, resolver: Resolver, endpoint_url: str, region: str, time_scale: float
) -> LocalResources:
    """Creates the stateful stack's table and queues on moto as the template describes them."""
    tables = _create_tables(stack, resolver, client("dynamodb", endpoint_url, region))
    queues = _create_queues(stack, resolver, client("sqs", endpoint_url, region), time_scale)
    return LocalResources(tables=tables, queues=queues)
