"""docs/openapi.json: valid OpenAPI 3, up to date, and the same API as the synthesized REST API."""

import copy
from typing import Any

import pytest
from openapi_spec_validator import validate

from reliability.openapi import API_KEY_HEADER, API_KEY_SCHEME, OPENAPI_PATH, document, render
from tests.infrastructure.synth import default_synthesis
from tests.infrastructure.templates import only_resource, resources_of

STAGES = ("Dev", "Prod")
RESOURCE = "AWS::ApiGateway::Resource"
METHOD = "AWS::ApiGateway::Method"
MODEL = "AWS::ApiGateway::Model"


@pytest.fixture(scope="module", params=STAGES)
def api_template(request: pytest.FixtureRequest) -> dict[str, Any]:
    return default_synthesis().template(request.param, "Stateless")


def resource_paths(template: dict[str, Any]) -> dict[str, str]:
    """Logical id of each API resource -> its full path, following ParentId up to the root."""
    resources = resources_of(template, RESOURCE)

    def path(logical_id: str) -> str:
        properties = resources[logical_id]["Properties"]
        parent = properties["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{properties['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in resources}


def methods(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, lower-case method) -> the method's properties."""
    paths = resource_paths(template)
    return {
        (paths[m["Properties"]["ResourceId"]["Ref"]], m["Properties"]["HttpMethod"].lower()): m[
            "Properties"
        ]
        for m in resources_of(template, METHOD).values()
    }


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): operation
        for path, item in document()["paths"].items()
        for method, operation in item.items()
    }


def test_the_document_is_valid_openapi_3() -> None:
    validate(copy.deepcopy(document()))


def test_the_committed_document_is_what_the_contract_generates() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(document())


def test_the_document_has_the_paths_and_methods_of_the_synthesized_api(
    api_template: dict[str, Any],
) -> None:
    assert set(operations()) == set(methods(api_template))
    assert set(operations()) == {("/refunds", "post"), ("/refunds/{refundId}", "get")}


def test_every_method_requires_the_api_key_in_the_header_the_document_names(
    api_template: dict[str, Any],
) -> None:
    scheme = document()["components"]["securitySchemes"][API_KEY_SCHEME]

    assert only_resource(api_template, "AWS::ApiGateway::RestApi")["ApiKeySourceType"] == "HEADER"
    assert scheme == {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
    for key, method in methods(api_template).items():
        assert method["ApiKeyRequired"] is True
        assert operations()[key]["security"] == [{API_KEY_SCHEME: []}]


def test_the_request_body_schema_is_the_gateway_model_schema(
    api_template: dict[str, Any],
) -> None:
    post = methods(api_template)[("/refunds", "post")]
    models = resources_of(api_template, MODEL)
    (content_type, reference), *_ = post["RequestModels"].items()
    model = models[reference["Ref"]]["Properties"]
    body = operations()[("/refunds", "post")]["requestBody"]["content"]

    gateway_schema = {k: v for k, v in model["Schema"].items() if k != "$schema"}
    assert len(post["RequestModels"]) == 1
    assert list(body) == [content_type]
    assert body[content_type]["schema"] == {"$ref": "#/components/schemas/RefundRequest"}
    assert document()["components"]["schemas"]["RefundRequest"] == gateway_schema


def test_the_path_parameter_is_required_in_both(api_template: dict[str, Any]) -> None:
    get = methods(api_template)[("/refunds/{refundId}", "get")]
    (parameter,) = [
        document()["components"]["parameters"][ref["$ref"].rsplit("/", 1)[1]]
        for ref in operations()[("/refunds/{refundId}", "get")]["parameters"]
    ]

    assert get["RequestParameters"] == {"method.request.path.refundId": True}
    assert (parameter["name"], parameter["in"], parameter["required"]) == ("refundId", "path", True)


def test_every_status_the_gateway_answers_with_is_documented_on_every_operation(
    api_template: dict[str, Any],
) -> None:
    answered = {
        str(response["Properties"]["StatusCode"])
        for response in resources_of(api_template, "AWS::ApiGateway::GatewayResponse").values()
        if "StatusCode" in response["Properties"]
    }

    assert answered == {"400", "403", "429"}
    for operation in operations().values():
        assert answered <= set(operation["responses"])
