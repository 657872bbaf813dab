"""Cold start: importing a handler module in a fresh process, against boto3 and the same clients.

Each child runs with only the function's environment (as the template sets it), its asset folder
on sys.path and no bytecode written, so the function's own modules are compiled on every import,
as in Lambda, where the asset ships no bytecode. The time is wall time inside the child, around
the import; the interpreter's own start is measured apart and subtracted from nothing.
"""

import time
from dataclasses import dataclass
from typing import Any

from bench.commands import python_json
from bench.figures import Figure, Goal, median
from bench.functions import BenchFunction

GOAL = Goal(limit=1.3)

# Records how the module creates its boto3 clients, so the baseline creates the same ones.
_DISCOVER = """
import json, sys
import boto3
created = []
original = boto3.client
def recording(*args, **kwargs):
    created.append([list(args), kwargs])
    return original(*args, **kwargs)
boto3.client = recording
sys.path.insert(0, {root!r})
__import__({module!r})
print(json.dumps(created))
"""

_IMPORT_HANDLER = """
import time
started = time.perf_counter()
import importlib, json, sys
sys.path.insert(0, {root!r})
importlib.import_module({module!r})
print(json.dumps({{"started": started, "seconds": time.perf_counter() - started}}))
"""

_IMPORT_BASELINE = """
import time
started = time.perf_counter()
import json
import boto3
for args, kwargs in {clients!r}:
    boto3.client(*args, **kwargs)
print(json.dumps({{"started": started, "seconds": time.perf_counter() - started}}))
"""


@dataclass(frozen=True)
class ColdStart:
    figure: Figure
    # From spawning the child to its first line of code: the same for handler and baseline.
    interpreter_start_ms: float


def _run(code: str, function: BenchFunction) -> tuple[Any, float]:
    """The child's answer, and the moment it was spawned."""
    spawned = time.perf_counter()
    return python_json(["-c", code], function.code_root, function.child_environment()), spawned


def boto3_clients(function: BenchFunction) -> list[Any]:
    """The boto3.client calls the handler module makes when imported, with their arguments."""
    code = _DISCOVER.format(root=str(function.code_root), module=function.module)
    clients, _ = _run(code, function)
    return list(clients)


def measure(function: BenchFunction, samples: int) -> ColdStart:
    clients = boto3_clients(function)
    handler_code = _IMPORT_HANDLER.format(root=str(function.code_root), module=function.module)
    baseline_code = _IMPORT_BASELINE.format(clients=clients)
    handler: list[float] = []
    baseline: list[float] = []
    starts: list[float] = []
    # Alternating, so that a burst of load on the machine hits both sides alike.
    for _ in range(samples):
        for code, times in ((handler_code, handler), (baseline_code, baseline)):
            result, spawned = _run(code, function)
            times.append(result["seconds"] * 1000)
            starts.append((result["started"] - spawned) * 1000)
    figure = Figure(
        name=f"cold_start_{function.folder}",
        value=median(handler),
        baseline=median(baseline),
        unit="ms",
        goal=GOAL,
    )
    return ColdStart(figure=figure, interpreter_start_ms=median(starts))
