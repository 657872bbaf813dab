"""The REST API as the stateless template declares it: routes, methods, models, responses."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local.assembly import REST_API_TYPE, Stack
from local.intrinsics import Resolver

_LAMBDA_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")


@dataclass(frozen=True)
class Method:
    http_method: str
    api_key_required: bool
    integration_type: str
    function_arn: str | None
    validate_body: bool
    validate_parameters: bool
    # Content type (or $default) to the JSON schema the body must satisfy.
    models: Mapping[str, Any]
    # Names such as method.request.header.Idempotency-Key that must be present.
    required_parameters: tuple[str, ...]
    mock_status: int = 200
    mock_headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    logical_id: str
    path: str
    methods: Mapping[str, Method]

    @property
    def parts(self) -> list[str]:
        return [part for part in self.path.split("/") if part]


@dataclass(frozen=True)
class GatewayResponse:
    response_type: str
    status_code: int | None
    templates: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Route:
    resource: Resource
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class RestApi:
    logical_id: str
    stage_name: str
    resources: tuple[Resource, ...]
    gateway_responses: Mapping[str, GatewayResponse]
    binary_media_types: tuple[str, ...]

    def route(self, path: str) -> Route | None:
        """The resource a request path belongs to; literal parts win over {parameters}."""
        segments = [segment for segment in path.split("/") if segment]
        best: tuple[tuple[int, ...], Route] | None = None
        for resource in self.resources:
            matched = _match(resource.parts, segments)
            if matched is None:
                continue
            specificity = tuple(0 if part.startswith("{") else 1 for part in resource.parts)
            if best is None or specificity > best[0]:
                best = (specificity, Route(resource, matched))
        return None if best is None else best[1]


def _match(parts: list[str], segments: list[str]) -> dict[str, str] | None:
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if not rest:
                return None
            parameters[part[1:-2]] = "/".join(rest)
            return parameters
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = segments[index]
        elif part != segments[index]:
            return None
    return parameters if len(parts) == len(segments) else None


def _logical_id(reference: Any) -> str | None:
    """The logical id a Ref names; None for Fn::GetAtt [api, RootResourceId], the root."""
    if isinstance(reference, dict) and "Ref" in reference:
        return str(reference["Ref"])
    return None


def _resource_paths(stack: Stack) -> dict[str | None, str]:
    raw = stack.resources("AWS::ApiGateway::Resource")
    paths: dict[str | None, str] = {None: "/"}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            properties = raw[logical_id]["Properties"]
            parent = path_of_parent(_logical_id(properties["ParentId"]))
            paths[logical_id] = parent.rstrip("/") + "/" + properties["PathPart"]
        return paths[logical_id]

    def path_of_parent(parent: str | None) -> str:
        return "/" if parent is None else path_of(parent)

    for logical_id in raw:
        path_of(logical_id)
    return paths


def _quoted(value: str) -> str:
    """API Gateway header mappings hold literals in single quotes: "'application/json'"."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


def _method(stack: Stack, resolver: Resolver, properties: dict[str, Any]) -> Method:
    integration = properties.get("Integration", {})
    function_arn = None
    if integration.get("Type") in ("AWS_PROXY", "AWS"):
        uri = str(resolver.resolve(stack, integration.get("Uri", "")))
        match = _LAMBDA_URI.search(uri)
        function_arn = match.group("arn") if match else None
    validators = stack.resources("AWS::ApiGateway::RequestValidator")
    validator_id = _logical_id(properties.get("RequestValidatorId"))
    validator = validators.get(validator_id, {}).get("Properties", {}) if validator_id else {}
    models = stack.resources("AWS::ApiGateway::Model")
    request_models = {
        content_type: models[model_id]["Properties"]["Schema"]
        for content_type, reference in properties.get("RequestModels", {}).items()
        if (model_id := _logical_id(reference) or str(reference)) in models
    }
    mock_response = (integration.get("IntegrationResponses") or [{}])[0]
    return Method(
        http_method=properties["HttpMethod"].upper(),
        api_key_required=bool(properties.get("ApiKeyRequired", False)),
        integration_type=integration.get("Type", "MOCK"),
        function_arn=function_arn,
        validate_body=bool(validator.get("ValidateRequestBody", False)),
        validate_parameters=bool(validator.get("ValidateRequestParameters", False)),
        models=request_models,
        required_parameters=tuple(
            name for name, required in properties.get("RequestParameters", {}).items() if required
        ),
        mock_status=int(mock_response.get("StatusCode", 200)),
        mock_headers={
            name.removeprefix("method.response.header."): _quoted(str(value))
            for name, value in mock_response.get("ResponseParameters", {}).items()
        },
    )


def read_rest_api(stack: Stack, resolver: Resolver) -> RestApi:
    """The one REST API of the stateless stack."""
    ((api_id, api),) = stack.resources(REST_API_TYPE).items()
    paths = _resource_paths(stack)
    methods: dict[str | None, dict[str, Method]] = {key: {} for key in paths}
    for resource in stack.resources("AWS::ApiGateway::Method").values():
        properties = resource["Properties"]
        method = _method(stack, resolver, properties)
        methods[_logical_id(properties["ResourceId"])][method.http_method] = method
    stages = [
        resource["Properties"]["StageName"]
        for resource in stack.resources(
            "AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"
        ).values()
        if "StageName" in resource.get("Properties", {})
    ]
    responses = {}
    for resource in stack.resources("AWS::ApiGateway::GatewayResponse").values():
        properties = resource["Properties"]
        status = properties.get("StatusCode")
        responses[properties["ResponseType"]] = GatewayResponse(
            response_type=properties["ResponseType"],
            status_code=int(status) if status else None,
            templates=properties.get("ResponseTemplates", {}),
            headers={
                name.removeprefix("gatewayresponse.header."): _quoted(str(value))
                for name, value in properties.get("ResponseParameters", {}).items()
            },
        )
    return RestApi(
        logical_id=api_id,
        stage_name=stages[0] if stages else "local",
        resources=tuple(
            Resource(logical_id or api_id, path, methods[logical_id])
            for logical_id, path in paths.items()
        ),
        gateway_responses=responses,
        binary_media_types=tuple(api.get("Properties", {}).get("BinaryMediaTypes", [])),
    )
