"""Runs the synthesized Lambda functions: each in worker processes of its own, as Lambda would.

Environment variables are per process, like in Lambda, so every function gets its own spawned
workers holding the template's variables (resolved to the local resources), its own code folder
on sys.path and the handler imported once, outside any invocation. Workers start on demand up to
the function's concurrency, which gives a cold start the first time, again as in Lambda.
"""

import contextlib
import importlib
import json
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol, TextIO

from local.assembly import Stack
from local.aws import DUMMY_CREDENTIALS
from local.intrinsics import PhysicalResource, Resolver

FUNCTION_TYPE = "AWS::Lambda::Function"
SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
# Lambda's defaults when a template leaves them out.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_SECONDS = 3
_FUNCTION_NAME_LIMIT = 64
_INIT_TIMEOUT_SECONDS = 60.0
# Enough for a batch of ten records' log lines many times over; more is left in the log file.
_KEPT_OUTPUT_LIMIT = 1024 * 1024
_KEPT_VARIABLES = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"})

log = logging.getLogger("local.functions")


@dataclass(frozen=True)
class FunctionDefinition:
    logical_id: str
    function_name: str
    handler: str
    code_root: Path
    environment: Mapping[str, str]
    memory_mb: int
    timeout_seconds: int
    region: str
    account: str

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"


def _code_root(stack: Stack, logical_id: str, code: Mapping[str, Any]) -> Path:
    """The function's asset folder in the cloud assembly: exactly the files Lambda would get."""
    asset = stack.assets.get(str(code.get("S3Key", "")))
    if asset is not None and asset.is_dir():
        return asset
    log.warning("function %s: asset not found in the assembly, running services/", logical_id)
    return SERVICES_DIR


def read_functions(
    stack: Stack, resolver: Resolver, region: str, account: str
) -> dict[str, FunctionDefinition]:
    """Every function of the stack, with its environment as the template states it."""
    names = {}
    for logical_id, resource in stack.resources(FUNCTION_TYPE).items():
        name = resource["Properties"].get("FunctionName") or f"{stack.stack_name}-{logical_id}"
        names[logical_id] = str(resolver.resolve(stack, name))[:_FUNCTION_NAME_LIMIT]
        arn = f"arn:aws:lambda:{region}:{account}:function:{names[logical_id]}"
        # Registered first, so that a variable naming another function resolves too.
        resolver.register(
            stack, logical_id, PhysicalResource(ref=names[logical_id], attributes={"Arn": arn})
        )
    functions = {}
    for logical_id, resource in stack.resources(FUNCTION_TYPE).items():
        properties = resource["Properties"]
        variables = properties.get("Environment", {}).get("Variables", {})
        functions[logical_id] = FunctionDefinition(
            logical_id=logical_id,
            function_name=names[logical_id],
            handler=properties["Handler"],
            code_root=_code_root(stack, logical_id, properties.get("Code", {})),
            environment={k: str(v) for k, v in resolver.resolve(stack, variables).items()},
            memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
            timeout_seconds=int(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
            region=region,
            account=account,
        )
    return functions


def lambda_environment(definition: FunctionDefinition, endpoint_url: str) -> dict[str, str]:
    """The variables Lambda itself sets, plus the template's, pointed at the local moto server."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": definition.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(definition.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{definition.function_name}",
        "AWS_REGION": definition.region,
        "AWS_DEFAULT_REGION": definition.region,
        **DUMMY_CREDENTIALS,
        **definition.environment,
        "AWS_ENDPOINT_URL": endpoint_url,
    }


class LambdaContext:
    """The context object a handler receives, with the fields Powertools reads."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = "$LATEST"
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: int = fields["memory_limit_in_mb"]
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = f"/aws/lambda/{self.function_name}"
        self.log_stream_name: str = fields["log_stream_name"]
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline: float = fields["deadline"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _redirect_output(log_path: str) -> None:
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)


class _InvocationOutput:
    """The worker's standard output: all of it goes to the function's log file, and what one
    invocation writes is also kept, to go back to the runner with the result, as Lambda hands
    back an invocation's log tail."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._kept: list[str] | None = None
        self._kept_size = 0

    def write(self, text: str) -> int:
        if self._kept is not None and self._kept_size < _KEPT_OUTPUT_LIMIT:
            self._kept.append(text)
            self._kept_size += len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def keep(self) -> None:
        self._kept, self._kept_size = [], 0

    def kept(self) -> str:
        text = "".join(self._kept or [])
        self._kept = None
        return text


def _error_payload(error: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }


def _worker_main(
    conn: Connection,
    handler: str,
    code_root: str,
    environment: dict[str, str],
    log_path: str,
) -> None:
    """Child process: one execution environment, serving invocations one at a time."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _redirect_output(log_path)
    # In place before the handler is imported, since a logger takes sys.stdout when it is made.
    output = _InvocationOutput(sys.stdout)
    sys.stdout = output
    # Like Lambda, the function sees its own variables only: nothing leaks in from the shell
    # (a profile, a real endpoint, another function's settings) beyond what a process needs.
    for name in [name for name in os.environ if name not in _KEPT_VARIABLES]:
        del os.environ[name]
    os.environ.update(environment)
    sys.dont_write_bytecode = True
    # Only the function's asset and the installed packages (Powertools stands in for its layer):
    # a module the asset lacks must fail here as it would in Lambda, not load from the checkout.
    checkout = {str(SERVICES_DIR), str(SERVICES_DIR.parent), "", os.getcwd()}
    sys.path[:] = [code_root, *(entry for entry in sys.path if entry not in checkout)]
    try:
        module_name, function_name = handler.rsplit(".", 1)
        function = getattr(importlib.import_module(module_name), function_name)
    except BaseException as error:
        traceback.print_exc()
        conn.send(("init_error", _error_payload(error)))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        event, fields = message
        # Tells the runner the invocation is taken: a worker that dies after this failed it, one
        # that died before never had it.
        conn.send(("started", None))
        os.environ["_X_AMZN_TRACE_ID"] = fields["trace_id"]
        print(f"START RequestId: {fields['aws_request_id']} Version: $LATEST")
        output.keep()
        try:
            result = function(event, LambdaContext(fields))
            # Lambda returns what survives JSON serialization, nothing else.
            reply: tuple[str, Any] = ("ok", json.loads(json.dumps(result)))
        except BaseException as error:
            traceback.print_exc()
            reply = ("error", _error_payload(error))
        logs = output.kept()
        print(f"END RequestId: {fields['aws_request_id']}")
        conn.send((*reply, logs))


@dataclass
class Invocation:
    """The outcome of one invocation: a result, or a function error as Lambda reports it."""

    request_id: str
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    # What the function wrote to standard output during the invocation: its log lines.
    logs: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None


class Invocable(Protocol):
    """What the gateway and the poller need of a function: a name, and a way to invoke it."""

    @property
    def name(self) -> str: ...

    def invoke(self, event: Any, trace_id: str | None = None) -> Invocation: ...


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection


class FunctionPoolClosedError(RuntimeError):
    """The pool stopped while an invocation waited for a worker."""


@dataclass
class FunctionPool:
    definition: FunctionDefinition
    environment: Mapping[str, str]
    concurrency: int
    log_path: Path
    _idle: "queue.Queue[_Worker]" = field(default_factory=queue.Queue)
    _workers: list[_Worker] = field(default_factory=list)
    # Workers running or being started; never more than the concurrency.
    _reserved: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: threading.Event = field(default_factory=threading.Event)

    @property
    def name(self) -> str:
        return self.definition.function_name

    def start(self) -> None:
        """Starts one warm worker, so that a broken handler fails the start, not a request."""
        with self._lock:
            self._reserved += 1
        self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        """Starts a worker in a slot already reserved; gives the slot back if it fails."""
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_worker_main,
            args=(
                child_end,
                self.definition.handler,
                str(self.definition.code_root),
                dict(self.environment),
                str(self.log_path),
            ),
            name=f"{self.definition.logical_id}-{len(self._workers) + 1}",
            daemon=True,
        )
        try:
            process.start()
        except Exception:
            with self._lock:
                self._reserved -= 1
            raise
        child_end.close()
        worker = _Worker(process, parent_end)
        with self._lock:
            self._workers.append(worker)
            self._reserved -= 1
        state: str = "init_error"
        detail: Any = {"errorMessage": "no answer"}
        if parent_end.poll(_INIT_TIMEOUT_SECONDS):
            try:
                state, detail = parent_end.recv()
            except EOFError:
                state, detail = "init_error", {"errorMessage": "the worker exited"}
        if state != "ready":
            self._discard(worker)
            message = detail["errorMessage"] if isinstance(detail, dict) else str(state)
            raise RuntimeError(f"{self.name} failed to initialize: {message} ({self.log_path})")
        return worker

    def _acquire(self) -> _Worker:
        while not self._closed.is_set():
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                may_grow = len(self._workers) + self._reserved < self.concurrency
                if may_grow:
                    self._reserved += 1
            if may_grow:
                return self._spawn()
            try:
                return self._idle.get(timeout=0.25)
            except queue.Empty:
                continue
        raise FunctionPoolClosedError(self.name)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
        worker.conn.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(1)

    def invoke(self, event: Any, trace_id: str | None = None) -> Invocation:
        """Runs the handler once; a crash, a timeout or an exception become a function error.

        A worker found dead before it took the event (killed while idle) is replaced, as Lambda
        starts a fresh environment: each failed attempt discards one dead worker, so within
        concurrency + 1 attempts the event reaches a live one, freshly started if need be.
        """
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        trace_id = trace_id or f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
        invocation = None
        for _ in range(self.concurrency + 1):
            try:
                worker = self._acquire()
            except RuntimeError as error:
                return Invocation(
                    request_id, error={"errorType": "Runtime.InitError", "errorMessage": str(error)}
                )
            invocation = self._run_on(worker, event, request_id, trace_id)
            if invocation is not None:
                break
            self._discard(worker)
            log.info(
                "%s: worker %s had exited (code %s); the invocation goes to another",
                self.name,
                worker.process.pid,
                worker.process.exitcode,
            )
        if invocation is None:
            invocation = Invocation(
                request_id,
                error={
                    "errorType": "Runtime.ExitError",
                    "errorMessage": "every execution environment exited before taking the event",
                },
            )
        invocation.duration_ms = (time.monotonic() - started) * 1000
        return invocation

    def _run_on(
        self, worker: _Worker, event: Any, request_id: str, trace_id: str
    ) -> Invocation | None:
        """The invocation on this worker; None when the worker was gone before it took it."""
        timeout = self.definition.timeout_seconds
        fields = {
            "function_name": self.name,
            "invoked_function_arn": self.definition.arn,
            "memory_limit_in_mb": self.definition.memory_mb,
            "aws_request_id": request_id,
            "log_stream_name": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{worker.process.pid}",
            "deadline": time.time() + timeout,
            "trace_id": trace_id,
        }
        deadline = time.monotonic() + timeout
        try:
            worker.conn.send((event, fields))
            if worker.conn.poll(timeout):
                worker.conn.recv()
        except (EOFError, OSError):
            return None
        invocation = Invocation(request_id)
        try:
            if worker.conn.poll(max(0.0, deadline - time.monotonic())):
                state, payload, invocation.logs = worker.conn.recv()
                if state == "ok":
                    invocation.result = payload
                else:
                    invocation.error = payload
            else:
                invocation.error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {timeout} s",
                }
        except (EOFError, OSError):
            invocation.error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": "the execution environment exited during the invocation",
            }
        # A worker that crashed or timed out is replaced, as Lambda replaces the environment.
        broken = invocation.error is not None and invocation.error["errorType"].startswith(
            ("Sandbox.", "Runtime.")
        )
        if broken or self._closed.is_set():
            self._discard(worker)
        else:
            self._idle.put(worker)
        return invocation

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(2)
            self._discard(worker)
