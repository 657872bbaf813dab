"""Starts and stops the whole local system; the one entry point for `make local`, tests and tools.

    with running(Settings(port=0, aws_port=0)) as system:
        requests.post(f"{system.api_url}/refunds", headers={"x-api-key": system.api_key}, ...)

Port 0 picks free ports, so several systems can run side by side. The function workers are
spawned processes, which import the main module again: a script that starts the system must keep
its entry point under `if __name__ == "__main__":`.
"""

import hashlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.api import read_rest_api
from local.assembly import Stack, StageAssembly, load_stage
from local.aws import LocalQueue, LocalResources, MotoServer, client, provision
from local.functions import (
    FunctionDefinition,
    FunctionPool,
    lambda_environment,
    read_functions,
)
from local.gateway import Gateway
from local.intrinsics import Resolver
from local.poller import EventSourceMapping, Poller, read_mappings
from local.settings import FAULT_FLAG, Settings
from local.watchdog import Failure, Watchdog

API_KEY_TYPE = "AWS::ApiGateway::ApiKey"
SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type, not a secret)


class LocalSystemFailedError(RuntimeError):
    """The system stopped working while it ran (moto's server went away); the message says why."""


@dataclass
class LocalSystem:
    api_url: str
    api_key: str
    aws_endpoint: str
    stage: str
    region: str
    resources: LocalResources
    functions: dict[str, FunctionDefinition]
    log_dir: Path
    event_source_queue: LocalQueue | None
    # moto's process, for whoever needs to watch it, or to see what a lost moto does.
    aws_process_id: int
    # Set, with its reason, when the system can no longer work.
    failure: Failure
    # Secrets Manager names holding the API key, as on a deployed stage.
    api_key_secrets: tuple[str, ...] = ()

    def client(self, service: str) -> Any:
        """A boto3 client for the local AWS side, to look at the table and the queues."""
        return client(service, self.aws_endpoint, self.region)

    @property
    def table_name(self) -> str:
        (table,) = self.resources.tables.values()
        return table.name

    @property
    def queue_url(self) -> str:
        """The queue the processor consumes."""
        if self.event_source_queue is None:
            raise LookupError("the stateless stack maps no queue to a function")
        return self.event_source_queue.url

    @property
    def dead_letter_queue_url(self) -> str:
        source = self.event_source_queue
        if source is None or source.dead_letter_arn is None:
            raise LookupError("the processor's queue has no dead-letter queue")
        return self.resources.queue_by_arn(source.dead_letter_arn).url


def _environment(
    definition: FunctionDefinition, endpoint_url: str, settings: Settings
) -> dict[str, str]:
    environment = lambda_environment(definition, endpoint_url)
    if FAULT_FLAG in definition.environment:
        # Fault injection is on locally, as in Dev, whatever the stage read.
        environment[FAULT_FLAG] = "true"
        environment.update(settings.faults)
    return environment


def _references(value: Any) -> Iterator[str]:
    """Every logical id a template value names with Ref, however deeply nested."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            yield str(value["Ref"])
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    secret_names: tuple[str, ...]


def _api_key(stack: Stack, resolver: Resolver) -> ApiKey:
    """The template's API key: an id for the proxy events, and the secrets that hold its value.

    The local key is stored in those secrets on moto, so reading the key from its secret works
    the same way locally as on a deployed stage.
    """
    keys = stack.resources(API_KEY_TYPE)
    secrets_by_id = stack.resources(SECRET_TYPE)
    names = []
    for key in keys.values():
        for logical_id in _references(key.get("Properties", {}).get("Value")):
            if logical_id in secrets_by_id:
                name = secrets_by_id[logical_id].get("Properties", {}).get("Name", logical_id)
                names.append(str(resolver.resolve(stack, name)))
    first = next(iter(keys), "local")
    key_id = hashlib.sha256(first.encode()).hexdigest()[:10]
    return ApiKey(key_id=key_id, secret_names=tuple(names))


def _function_pools(
    functions: dict[str, FunctionDefinition],
    mappings: list[EventSourceMapping],
    endpoint_url: str,
    settings: Settings,
) -> dict[str, FunctionPool]:
    """One pool per function, by function name; a mapped function gets the mapping's concurrency."""
    concurrency = {
        mapping.function_name: mapping.maximum_concurrency or settings.concurrency
        for mapping in mappings
    }
    return {
        definition.function_name: FunctionPool(
            definition=definition,
            environment=_environment(definition, endpoint_url, settings),
            concurrency=concurrency.get(definition.function_name, settings.concurrency),
            log_path=settings.log_dir / f"{definition.logical_id}.log",
        )
        for definition in functions.values()
    }


def _start_pools(pools: list[FunctionPool]) -> None:
    """Starts every pool's first worker at once: each spends most of a second importing."""
    with ThreadPoolExecutor(max_workers=len(pools) or 1) as executor:
        for future in [executor.submit(pool.start) for pool in pools]:
            future.result()


def _start_gateway(gateway: Gateway, port: int) -> int:
    try:
        return gateway.start(port)
    except OSError as error:
        message = f"the API could not listen on port {port} ({error})"
        raise RuntimeError(f"{message}; LOCAL_PORT chooses another") from error


def _poller(
    mapping: EventSourceMapping,
    resources: LocalResources,
    pools: dict[str, FunctionPool],
    endpoint_url: str,
    region: str,
    settings: Settings,
) -> Poller:
    return Poller(
        mapping,
        resources.queue_by_arn(mapping.event_source_arn),
        pools[mapping.function_name],
        endpoint_url,
        region,
        settings.time_scale,
    )


def _fresh_logs(log_dir: Path) -> None:
    """Each run starts its logs afresh; the workers and moto append to them."""
    log_dir.mkdir(parents=True, exist_ok=True)
    for old_log in log_dir.glob("*.log"):
        old_log.write_text("")


@contextmanager
def running(settings: Settings | None = None) -> Iterator[LocalSystem]:
    """The whole system, up until the block ends; everything started is stopped on the way out.

    Should moto's server go away meanwhile, `system.failure` says why at once, and the end of the
    block raises LocalSystemFailedError with that reason.
    """
    settings = settings or Settings()
    assembly: StageAssembly = load_stage(settings.cloud_assembly, settings.stage)
    region = assembly.region
    _fresh_logs(settings.log_dir)
    api_key = settings.api_key or secrets.token_urlsafe(30)

    with ExitStack() as stack:
        moto_log = settings.log_dir / "moto.log"
        moto = MotoServer(settings.aws_port, assembly.account, moto_log)
        moto.start()
        stack.callback(moto.stop)
        failure = Failure()
        watchdog = Watchdog(
            f"moto's server (process {moto.pid}, {moto.endpoint_url})",
            moto.exit_code,
            moto.accepts_connections,
            lambda reason: failure.set(f"{reason}; its log is {moto_log}"),
        )
        watchdog.start()
        # Stopped before moto is, so that stopping moto never looks like losing it.
        stack.callback(watchdog.stop)
        resolver = Resolver(assembly)
        resources = provision(
            assembly.stateful, resolver, moto.endpoint_url, region, settings.time_scale
        )

        stateless = assembly.stateless
        functions = read_functions(stateless, resolver, region, assembly.account)
        mappings = read_mappings(stateless, resolver)
        pools = _function_pools(functions, mappings, moto.endpoint_url, settings)
        for pool in pools.values():
            stack.callback(pool.close)
        _start_pools(list(pools.values()))

        key = _api_key(stateless, resolver)
        secrets_manager = client("secretsmanager", moto.endpoint_url, region)
        for name in key.secret_names:
            secrets_manager.create_secret(Name=name, SecretString=api_key)
        gateway = Gateway(
            api=read_rest_api(stateless, resolver),
            functions_by_arn={pool.definition.arn: pool for pool in pools.values()},
            api_key=api_key,
            api_key_id=key.key_id,
            account=assembly.account,
        )
        port = _start_gateway(gateway, settings.port)
        stack.callback(gateway.stop)

        pollers = [
            _poller(mapping, resources, pools, moto.endpoint_url, region, settings)
            for mapping in mappings
        ]
        for poller in pollers:
            poller.start()
            stack.callback(poller.stop)

        yield LocalSystem(
            api_url=f"http://127.0.0.1:{port}",
            api_key=api_key,
            aws_endpoint=moto.endpoint_url,
            stage=assembly.stage,
            region=region,
            resources=resources,
            functions=functions,
            log_dir=settings.log_dir,
            event_source_queue=pollers[0].queue if pollers else None,
            aws_process_id=moto.pid,
            failure=failure,
            api_key_secrets=key.secret_names,
        )
    if failure.reason is not None:
        raise LocalSystemFailedError(failure.reason)
