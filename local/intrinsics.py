"""Resolves CloudFormation intrinsic functions in a template to the local resources' values.

The stacks hand values to each other through references (Ref, Fn::GetAtt, Fn::GetStackOutput,
Fn::ImportValue, SSM parameters); following them here keeps every setting where the template put
it, so the local run has no second copy of a name, a URL or an ARN.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local.assembly import Stack, StageAssembly

SSM_PARAMETER_TYPE = "AWS::SSM::Parameter"
_DYNAMIC_SSM = re.compile(r"\{\{resolve:ssm:([^:}]+)(?::\d+)?\}\}")
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")


class UnresolvableReferenceError(Exception):
    """A template value refers to something the local run does not provide."""


@dataclass(frozen=True)
class PhysicalResource:
    """What a created resource answers to Ref and to Fn::GetAtt."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


class _NoValue:
    """AWS::NoValue: the property is left out."""


NO_VALUE = _NoValue()


class Resolver:
    def __init__(self, assembly: StageAssembly) -> None:
        self._assembly = assembly
        self._physical: dict[tuple[str, str], PhysicalResource] = {}

    def register(self, stack: Stack, logical_id: str, resource: PhysicalResource) -> None:
        self._physical[(stack.stack_name, logical_id)] = resource

    def resolve(self, stack: Stack, value: Any) -> Any:
        """The value with every intrinsic function replaced by what it evaluates to locally."""
        if isinstance(value, str):
            return _DYNAMIC_SSM.sub(lambda match: self._ssm_parameter(match.group(1)), value)
        if isinstance(value, list):
            items = [self.resolve(stack, item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            function = self._functions().get(name)
            if function is not None:
                return function(stack, argument)
            if name.startswith("Fn::") or name == "Condition":
                raise UnresolvableReferenceError(
                    f"{stack.stack_name}: {name} is not supported locally"
                )
        resolved = {key: self.resolve(stack, item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _functions(self) -> dict[str, Any]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::GetStackOutput": self._get_stack_output,
            "Fn::ImportValue": self._import_value,
        }

    def _ref(self, stack: Stack, name: str) -> Any:
        pseudo = {
            "AWS::Region": self._assembly.region,
            "AWS::AccountId": self._assembly.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack.stack_name,
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        parameter = stack.template.get("Parameters", {}).get(name)
        if parameter is not None:
            if str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value<"):
                return self._ssm_parameter(parameter["Default"])
            return parameter.get("Default")
        return self._resource(stack, name).ref

    def _get_att(self, stack: Stack, argument: Any) -> str:
        logical_id, attribute = (
            argument.split(".", 1) if isinstance(argument, str) else self.resolve(stack, argument)
        )
        resource = self._resource(stack, logical_id)
        if attribute not in resource.attributes:
            raise UnresolvableReferenceError(
                f"{stack.stack_name}: {logical_id}.{attribute} has no local value"
            )
        return resource.attributes[attribute]

    def _join(self, stack: Stack, argument: list[Any]) -> str:
        delimiter, parts = argument
        return str(delimiter).join(str(part) for part in self.resolve(stack, parts))

    def _sub(self, stack: Stack, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = self.resolve(stack, variables)

        def substitute(match: re.Match[str]) -> str:
            literal, name = match.groups()
            if literal:
                return "${" + name + "}"
            if name in values:
                return str(values[name])
            if "." in name:
                return self._get_att(stack, name)
            return str(self._ref(stack, name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _select(self, stack: Stack, argument: list[Any]) -> Any:
        index, items = self.resolve(stack, argument)
        return items[int(index)]

    def _split(self, stack: Stack, argument: list[Any]) -> list[str]:
        delimiter, text = self.resolve(stack, argument)
        return str(text).split(delimiter)

    def _get_stack_output(self, stack: Stack, argument: dict[str, Any]) -> Any:
        reference = self.resolve(stack, argument)
        if isinstance(reference, list):
            reference = dict(zip(("StackName", "OutputName"), reference, strict=False))
        producer = self._assembly.stack_named(reference["StackName"])
        output = producer.template.get("Outputs", {}).get(reference["OutputName"])
        if output is None:
            raise UnresolvableReferenceError(
                f"{producer.stack_name} has no output {reference['OutputName']}"
            )
        return self.resolve(producer, output["Value"])

    def _import_value(self, stack: Stack, argument: Any) -> Any:
        export_name = self.resolve(stack, argument)
        for producer in self._assembly.stacks:
            for output in producer.template.get("Outputs", {}).values():
                if "Export" in output and self.resolve(producer, output["Export"]["Name"]) == (
                    export_name
                ):
                    return self.resolve(producer, output["Value"])
        raise UnresolvableReferenceError(f"no stack in the stage exports {export_name}")

    def _ssm_parameter(self, name: str) -> Any:
        for producer in self._assembly.stacks:
            for parameter in producer.resources(SSM_PARAMETER_TYPE).values():
                properties = parameter.get("Properties", {})
                if self.resolve(producer, properties.get("Name")) == name:
                    return self.resolve(producer, properties["Value"])
        raise UnresolvableReferenceError(f"no stack in the stage writes the SSM parameter {name}")

    def _resource(self, stack: Stack, logical_id: str) -> PhysicalResource:
        resource = self._physical.get((stack.stack_name, logical_id))
        if resource is None:
            raise UnresolvableReferenceError(
                f"{stack.stack_name}: {logical_id} is not created by the local run"
            )
        return resource
