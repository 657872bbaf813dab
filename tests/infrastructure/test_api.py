"""The REST API: routes, key and usage plan, validation, JSON errors, logging, tracing and WAF."""

import json
import re
from typing import Any

import pytest

from shared.contract import refund_request_schema
from tests.infrastructure.synth import Synthesis
from tests.infrastructure.templates import only_resource, resources_of

JSON = "application/json"
TOOLING = "111111111111"
ACCOUNTS = {"Dev": "222222222222", "Prod": "333333333333"}


def _method(template: dict[str, Any], http_method: str, path_part: str) -> dict[str, Any]:
    resources = resources_of(template, "AWS::ApiGateway::Resource")
    resource_id = next(
        logical_id
        for logical_id, resource in resources.items()
        if resource["Properties"]["PathPart"] == path_part
    )
    return next(
        method["Properties"]
        for method in resources_of(template, "AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] == http_method
        and method["Properties"]["ResourceId"] == {"Ref": resource_id}
    )


def _handler_behind(template: dict[str, Any], method: dict[str, Any]) -> str:
    uri_parts = method["Integration"]["Uri"]["Fn::Join"][1]
    function_id = next(part["Fn::GetAtt"][0] for part in uri_parts if isinstance(part, dict))
    handler: str = template["Resources"][function_id]["Properties"]["Handler"]
    return handler


def _gateway_responses(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in resources_of(template, "AWS::ApiGateway::GatewayResponse").values()
    }


def test_api_has_exactly_two_routes(stateless_json: dict[str, Any]) -> None:
    paths = {
        r["Properties"]["PathPart"]
        for r in resources_of(stateless_json, "AWS::ApiGateway::Resource").values()
    }
    methods = {
        m["Properties"]["HttpMethod"]
        for m in resources_of(stateless_json, "AWS::ApiGateway::Method").values()
    }

    assert paths == {"refunds", "{refundId}"}
    assert methods == {"POST", "GET"}


def test_refunds_path_nests_the_refund_id(stateless_json: dict[str, Any]) -> None:
    resources = resources_of(stateless_json, "AWS::ApiGateway::Resource")
    refunds_id = next(k for k, r in resources.items() if r["Properties"]["PathPart"] == "refunds")
    refund = next(r for r in resources.values() if r["Properties"]["PathPart"] == "{refundId}")

    assert refund["Properties"]["ParentId"] == {"Ref": refunds_id}


@pytest.mark.parametrize(
    ("http_method", "path_part", "handler"),
    [
        ("POST", "refunds", "receiver.handler.lambda_handler"),
        ("GET", "{refundId}", "status.handler.lambda_handler"),
    ],
)
def test_route_requires_an_api_key_and_proxies_to_its_function(
    stateless_json: dict[str, Any], http_method: str, path_part: str, handler: str
) -> None:
    method = _method(stateless_json, http_method, path_part)

    assert method["ApiKeyRequired"] is True
    assert method["AuthorizationType"] == "NONE"
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert _handler_behind(stateless_json, method) == handler


def test_post_body_is_validated_against_the_contract_schema(
    stateless_json: dict[str, Any],
) -> None:
    post = _method(stateless_json, "POST", "refunds")
    model_id = post["RequestModels"][JSON]["Ref"]
    model = stateless_json["Resources"][model_id]["Properties"]
    validator = stateless_json["Resources"][post["RequestValidatorId"]["Ref"]]["Properties"]

    assert validator["ValidateRequestBody"] is True
    assert model["ContentType"] == JSON
    assert model["Name"] == "RefundRequest"
    assert model["Schema"] == {
        "$schema": "http://json-schema.org/draft-04/schema#",
        **refund_request_schema(),
    }


def test_get_declares_the_refund_id_path_parameter(stateless_json: dict[str, Any]) -> None:
    get = _method(stateless_json, "GET", "{refundId}")

    assert get["RequestParameters"] == {"method.request.path.refundId": True}
    assert "RequestValidatorId" in get


@pytest.mark.parametrize(
    ("response_type", "status_code"),
    [
        ("BAD_REQUEST_BODY", "400"),
        ("MISSING_AUTHENTICATION_TOKEN", "403"),
        ("INVALID_API_KEY", "403"),
        ("ACCESS_DENIED", "403"),
        ("THROTTLED", "429"),
        ("QUOTA_EXCEEDED", "429"),
    ],
)
def test_gateway_response_has_its_status(
    stateless_json: dict[str, Any], response_type: str, status_code: str
) -> None:
    assert _gateway_responses(stateless_json)[response_type]["StatusCode"] == status_code


def test_default_gateway_responses_keep_the_status_api_gateway_chose(
    stateless_json: dict[str, Any],
) -> None:
    responses = _gateway_responses(stateless_json)

    assert "StatusCode" not in responses["DEFAULT_4XX"]
    assert "StatusCode" not in responses["DEFAULT_5XX"]


def test_every_gateway_response_is_json_with_a_message(stateless_json: dict[str, Any]) -> None:
    responses = _gateway_responses(stateless_json)

    assert len(responses) == 8
    for response in responses.values():
        assert list(response["ResponseTemplates"]) == [JSON]
        assert response["ResponseTemplates"][JSON].startswith(
            '{"message": $context.error.messageString'
        )


def test_bad_request_body_carries_the_validator_error_text(
    stateless_json: dict[str, Any],
) -> None:
    template = _gateway_responses(stateless_json)["BAD_REQUEST_BODY"]["ResponseTemplates"][JSON]

    assert template == (
        '{"message": $context.error.messageString, '
        '"validationErrors": "$context.error.validationErrorString"}'
    )


def test_usage_plan_binds_the_stage_with_the_configured_limits(
    stateless_json: dict[str, Any], stage: str
) -> None:
    plan = only_resource(stateless_json, "AWS::ApiGateway::UsagePlan")
    stage_id = next(iter(resources_of(stateless_json, "AWS::ApiGateway::Stage")))

    assert (
        plan["Throttle"]
        == {
            "Dev": {"RateLimit": 50, "BurstLimit": 100},
            "Prod": {"RateLimit": 500, "BurstLimit": 1000},
        }[stage]
    )
    assert plan["Quota"] == {"Limit": {"Dev": 100000, "Prod": 2000000}[stage], "Period": "DAY"}
    assert [api_stage["Stage"] for api_stage in plan["ApiStages"]] == [{"Ref": stage_id}]


def test_api_key_belongs_to_the_usage_plan(stateless_json: dict[str, Any]) -> None:
    plan_key = only_resource(stateless_json, "AWS::ApiGateway::UsagePlanKey")
    key_id = next(iter(resources_of(stateless_json, "AWS::ApiGateway::ApiKey")))
    plan_id = next(iter(resources_of(stateless_json, "AWS::ApiGateway::UsagePlan")))

    assert plan_key == {
        "KeyId": {"Ref": key_id},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": plan_id},
    }


def test_api_key_value_is_a_secrets_manager_reference(stateless_json: dict[str, Any]) -> None:
    key = only_resource(stateless_json, "AWS::ApiGateway::ApiKey")
    secret_id = next(iter(resources_of(stateless_json, "AWS::SecretsManager::Secret")))

    assert key["Value"] == {
        "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"]]
    }


def test_api_key_secret_is_generated_under_its_stage_name(
    stateless_json: dict[str, Any], stage: str
) -> None:
    secret = only_resource(stateless_json, "AWS::SecretsManager::Secret")

    assert secret["Name"] == f"refunds/{stage.lower()}/api-key"
    assert secret["GenerateSecretString"] == {
        "PasswordLength": 40,
        "ExcludePunctuation": True,
        "IncludeSpace": False,
    }
    assert "SecretString" not in secret


def _secret_key(template: dict[str, Any]) -> dict[str, Any]:
    """The KMS key resource the API key's secret is encrypted with."""
    secret = only_resource(template, "AWS::SecretsManager::Secret")
    key_id, attribute = secret["KmsKeyId"]["Fn::GetAtt"]
    assert attribute == "Arn"
    key: dict[str, Any] = template["Resources"][key_id]
    return key


def _smoke_role(stage: str) -> str:
    return f"arn:aws:iam::{TOOLING}:role/Refunds-{stage}-SmokeTest"


def test_api_key_secret_has_a_customer_managed_key_that_rotates(
    stateless_json: dict[str, Any], stage: str
) -> None:
    key = _secret_key(stateless_json)

    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == {"Dev": "Delete", "Prod": "Retain"}[stage]


def test_secret_key_lets_the_smoke_role_decrypt_only_through_secrets_manager(
    stateless_json: dict[str, Any], stage: str
) -> None:
    account = ACCOUNTS[stage]
    via_secrets_manager = {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}

    assert _secret_key(stateless_json)["Properties"]["KeyPolicy"]["Statement"] == [
        {
            "Action": "kms:*",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Resource": "*",
        },
        {
            "Action": "kms:Decrypt",
            "Condition": {
                "StringEquals": {"aws:PrincipalArn": _smoke_role(stage), **via_secrets_manager}
            },
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{TOOLING}:root"},
            "Resource": "*",
        },
        {
            "Action": [
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ],
            "Condition": {"StringEquals": via_secrets_manager},
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Resource": "*",
        },
    ]


def test_secret_policy_lets_only_the_smoke_role_read_the_value(
    stateless_json: dict[str, Any], stage: str
) -> None:
    policy = only_resource(stateless_json, "AWS::SecretsManager::ResourcePolicy")
    secret_id = next(iter(resources_of(stateless_json, "AWS::SecretsManager::Secret")))

    assert policy == {
        "BlockPublicPolicy": True,
        "ResourcePolicy": {
            "Statement": [
                {
                    "Action": "secretsmanager:GetSecretValue",
                    "Condition": {"StringEquals": {"aws:PrincipalArn": _smoke_role(stage)}},
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{TOOLING}:root"},
                    "Resource": "*",
                }
            ],
            "Version": "2012-10-17",
        },
        "SecretId": {"Ref": secret_id},
    }


def test_outputs_name_the_key_secret_but_never_hold_its_value(
    stateless_json: dict[str, Any], stage: str
) -> None:
    outputs = stateless_json["Outputs"]

    assert outputs["ApiKeySecretName"]["Value"] == f"refunds/{stage.lower()}/api-key"
    assert "resolve:secretsmanager" not in json.dumps(outputs)
    assert "SecretString" not in json.dumps(outputs)


def test_stage_traces_and_logs_without_request_bodies(
    stateless_json: dict[str, Any], stage: str
) -> None:
    api_stage = only_resource(stateless_json, "AWS::ApiGateway::Stage")

    assert api_stage["StageName"] == stage.lower()
    assert api_stage["TracingEnabled"] is True
    assert api_stage["MethodSettings"] == [
        {
            "HttpMethod": "*",
            "ResourcePath": "/*",
            "LoggingLevel": {"Dev": "INFO", "Prod": "ERROR"}[stage],
            "MetricsEnabled": True,
            "DataTraceEnabled": False,
        }
    ]


def test_access_logs_are_one_json_object_per_request(stateless_json: dict[str, Any]) -> None:
    api_stage = only_resource(stateless_json, "AWS::ApiGateway::Stage")
    fields = json.loads(api_stage["AccessLogSetting"]["Format"])

    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    assert fields["apiKeyId"] == "$context.identity.apiKeyId"
    assert "$context.identity.apiKey" not in fields.values()


def test_access_log_group_keeps_logs_for_the_stage_retention(
    stateless_json: dict[str, Any], stage: str
) -> None:
    api_stage = only_resource(stateless_json, "AWS::ApiGateway::Stage")
    destination = json.dumps(api_stage["AccessLogSetting"]["DestinationArn"])
    log_group_id = re.search(r'"Ref": "([A-Za-z0-9]+)"', destination)
    assert log_group_id is not None
    log_group = stateless_json["Resources"][log_group_id.group(1)]

    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Dev": 14, "Prod": 365}[stage]


def test_api_creates_no_account_role_of_its_own(stateless_json: dict[str, Any]) -> None:
    assert resources_of(stateless_json, "AWS::ApiGateway::Account") == {}


def test_prod_stage_is_behind_a_web_acl_with_common_rules_and_a_rate_limit(
    synthesis: Synthesis,
) -> None:
    template = synthesis.template("Prod", "Stateless")
    acl = only_resource(template, "AWS::WAFv2::WebACL")
    association = only_resource(template, "AWS::WAFv2::WebACLAssociation")
    stage_id = next(iter(resources_of(template, "AWS::ApiGateway::Stage")))

    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    assert rules["AWSManagedRulesCommonRuleSet"]["Statement"] == {
        "ManagedRuleGroupStatement": {"Name": "AWSManagedRulesCommonRuleSet", "VendorName": "AWS"}
    }
    assert rules["RateLimitPerIp"]["Statement"] == {
        "RateBasedStatement": {"AggregateKeyType": "IP", "Limit": 2000}
    }
    assert rules["RateLimitPerIp"]["Action"] == {"Block": {}}
    assert stage_id in json.dumps(association["ResourceArn"])


def test_dev_stage_has_no_web_acl(synthesis: Synthesis) -> None:
    template = synthesis.template("Dev", "Stateless")

    assert resources_of(template, "AWS::WAFv2::WebACL") == {}
    assert resources_of(template, "AWS::WAFv2::WebACLAssociation") == {}
