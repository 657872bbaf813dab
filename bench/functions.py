"""The three functions as the synthesized stage states them: handler, asset folder, environment.

Everything comes from the cloud assembly, so the benchmarks run the code and the settings that
would ship. Values that another stack hands over (the table name, the queue URL) resolve only on
a deployed or local stage; here they become placeholders, which is all an import needs.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.assembly import TABLE_TYPES, StageAssembly, load_stage
from local.functions import FUNCTION_TYPE, FunctionDefinition, lambda_environment

REPOSITORY = Path(__file__).resolve().parent.parent
CLOUD_ASSEMBLY = REPOSITORY / "cdk.out"
STAGE = "Dev"
# Nothing listens there: a client that tried to call AWS during import would fail, not leak.
DUMMY_ENDPOINT = "http://127.0.0.1:9"
FUNCTIONS = ("receiver", "processor", "status")
_KEPT_VARIABLES = ("PATH", "HOME", "LANG", "TZ", "TMPDIR")


@dataclass(frozen=True)
class BenchFunction:
    folder: str
    definition: FunctionDefinition
    # The refund table's key schema and attribute definitions, as the stateful template has them.
    table_keys: Mapping[str, Any]

    @property
    def module(self) -> str:
        return self.definition.handler.rsplit(".", 1)[0]

    @property
    def code_root(self) -> Path:
        return self.definition.code_root

    def child_environment(self, endpoint_url: str | None = DUMMY_ENDPOINT) -> dict[str, str]:
        """A child process's whole environment: what Lambda and the template set, nothing else
        from this shell beyond what a process needs, and no bytecode written (the asset folder
        is the cloud assembly's, and bytecode written there would ship with it).

        Without an endpoint, AWS_ENDPOINT_URL is left out, for moto in-process: it intercepts
        requests to AWS's own addresses, and a custom endpoint would bypass it.
        """
        kept = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
        environment = {
            **kept,
            **lambda_environment(self.definition, endpoint_url or DUMMY_ENDPOINT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if endpoint_url is None:
            del environment["AWS_ENDPOINT_URL"]
        return environment


def _literal(name: str, value: Any) -> str:
    return value if isinstance(value, str) else f"bench-placeholder-{name.lower()}"


def _table_keys(assembly: StageAssembly) -> dict[str, Any]:
    tables = assembly.stateful.resources(*TABLE_TYPES)
    if len(tables) != 1:
        raise LookupError(f"the {STAGE} stage should have one table, not {len(tables)}")
    (table,) = tables.values()
    properties = table["Properties"]
    return {name: properties[name] for name in ("KeySchema", "AttributeDefinitions")}


def _definitions(assembly: StageAssembly) -> dict[str, BenchFunction]:
    stack = assembly.stateless
    table_keys = _table_keys(assembly)
    found = {}
    for logical_id, resource in stack.resources(FUNCTION_TYPE).items():
        properties: Mapping[str, Any] = resource["Properties"]
        handler = str(properties["Handler"])
        folder = handler.split(".", 1)[0]
        asset = stack.assets.get(str(properties.get("Code", {}).get("S3Key", "")))
        if asset is None:
            raise LookupError(f"{logical_id}: its asset is not in the cloud assembly")
        variables = properties.get("Environment", {}).get("Variables", {})
        found[folder] = BenchFunction(
            folder=folder,
            definition=FunctionDefinition(
                logical_id=logical_id,
                function_name=f"bench-{folder}",
                handler=handler,
                code_root=asset,
                environment={name: _literal(name, value) for name, value in variables.items()},
                memory_mb=int(properties["MemorySize"]),
                timeout_seconds=int(properties["Timeout"]),
                region=assembly.region,
                account=assembly.account,
            ),
            table_keys=table_keys,
        )
    return found


def bench_functions(cloud_assembly: Path = CLOUD_ASSEMBLY) -> dict[str, BenchFunction]:
    """The receiver, the processor and the status reader of the stage, by folder name."""
    found = _definitions(load_stage(cloud_assembly, STAGE))
    missing = [name for name in FUNCTIONS if name not in found]
    if missing:
        raise LookupError(f"the {STAGE} stage has no function for {', '.join(missing)}")
    return {name: found[name] for name in FUNCTIONS}
