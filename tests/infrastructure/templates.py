"""Small readers over synthesized CloudFormation templates, for the infrastructure tests."""

from typing import Any


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource, for every resource of one CloudFormation type."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only_resource(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The properties of the single resource of a type; fails if there are none or several."""
    found = list(resources_of(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    properties: dict[str, Any] = found[0].get("Properties", {})
    return properties


def stack_output(stage: str, output_name: str) -> dict[str, Any]:
    """How the stateless template reads one of the stateful stack's published outputs."""
    return {
        "Fn::GetStackOutput": {"StackName": f"Refunds-{stage}-Stateful", "OutputName": output_name}
    }
