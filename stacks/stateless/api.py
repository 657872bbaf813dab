"""The REST API: routes, key and usage plan, gateway validation, JSON errors, logs and tracing."""

import json
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from shared.contract import refund_request_schema
from stacks.config import Throttle
from stacks.nag import acknowledge
from stacks.stateless.retention import stage_log_group

JSON = "application/json"
JSON_SCHEMA_DRAFT_4 = "http://json-schema.org/draft-04/schema#"
API_KEY_LENGTH = 40

# Gateway response bodies are plain substitution, not VTL: messageString arrives already quoted,
# validationErrorString does not, so it is placed inside quotes.
_MESSAGE_ONLY = '{"message": $context.error.messageString}'
_INVALID_BODY = (
    '{"message": $context.error.messageString, '
    '"validationErrors": "$context.error.validationErrorString"}'
)
GATEWAY_RESPONSES: dict[str, tuple[apigateway.ResponseType, str | None, str]] = {
    "BadRequestBody": (apigateway.ResponseType.BAD_REQUEST_BODY, "400", _INVALID_BODY),
    "MissingAuthenticationToken": (
        apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        "403",
        _MESSAGE_ONLY,
    ),
    "InvalidApiKey": (apigateway.ResponseType.INVALID_API_KEY, "403", _MESSAGE_ONLY),
    "AccessDenied": (apigateway.ResponseType.ACCESS_DENIED, "403", _MESSAGE_ONLY),
    "Throttled": (apigateway.ResponseType.THROTTLED, "429", _MESSAGE_ONLY),
    "QuotaExceeded": (apigateway.ResponseType.QUOTA_EXCEEDED, "429", _MESSAGE_ONLY),
    # The defaults keep the status API Gateway chose; only the body is made JSON.
    "Default4xx": (apigateway.ResponseType.DEFAULT_4_XX, None, _MESSAGE_ONLY),
    "Default5xx": (apigateway.ResponseType.DEFAULT_5_XX, None, _MESSAGE_ONLY),
}

# One JSON object per request; no body, no key value, only the key's id.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integration.status",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "apiKeyId": "$context.identity.apiKeyId",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "xrayTraceId": "$context.xrayTraceId",
}


@dataclass(frozen=True)
class KeyReader:
    """The one role outside the stage that reads the API key's value: the pipeline's smoke test,
    which runs in the tooling account."""

    account: str
    role_name: str


@dataclass(frozen=True)
class ApiSettings:
    stage_name: str
    execution_log_level: apigateway.MethodLoggingLevel
    log_retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy
    throttle: Throttle
    api_key_secret_name: str
    key_reader: KeyReader


class RefundApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: ApiSettings,
        receiver: lambda_.IFunction,
        status_reader: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, id)

        self.access_log_group = stage_log_group(
            self,
            "AccessLogs",
            retention=settings.log_retention,
            removal_policy=settings.removal_policy,
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=f"refunds-{settings.stage_name}",
            description="Asynchronous refund requests and their status",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # The account-level CloudWatch role is owned by the stateful stack.
            cloud_watch_role=False,
            api_key_source_type=apigateway.ApiKeySourceType.HEADER,
            deploy_options=apigateway.StageOptions(
                stage_name=settings.stage_name,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=settings.execution_log_level,
                # Full request and response bodies would put refund details in the logs.
                data_trace_enabled=False,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigateway.AccessLogFormat.custom(
                    json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))
                ),
            ),
        )

        self._gateway_responses()
        self._routes(receiver, status_reader)
        self._api_key_secret(settings)
        self._api_key_and_usage_plan(settings)

    @property
    def stage(self) -> apigateway.Stage:
        return self.rest_api.deployment_stage

    def _gateway_responses(self) -> None:
        for id, (response_type, status_code, template) in GATEWAY_RESPONSES.items():
            self.rest_api.add_gateway_response(
                id, type=response_type, status_code=status_code, templates={JSON: template}
            )

    def _routes(self, receiver: lambda_.IFunction, status_reader: lambda_.IFunction) -> None:
        # A plain AWS::ApiGateway::Model holding the schema exactly as the contract states it.
        model = apigateway.CfnModel(
            self,
            "RefundRequestModel",
            rest_api_id=self.rest_api.rest_api_id,
            name="RefundRequest",
            content_type=JSON,
            description="POST /refunds body, built from the receiver's contract",
            schema={"$schema": JSON_SCHEMA_DRAFT_4, **refund_request_schema()},
        )
        # One validator for both routes: the POST body against the model, and the parameters
        # each method declares as required.
        validator = self.rest_api.add_request_validator(
            "RequestValidator",
            request_validator_name="refund-request",
            validate_request_body=True,
            validate_request_parameters=True,
        )

        refunds = self.rest_api.root.add_resource("refunds")
        self.create_refund = refunds.add_method(
            "POST",
            apigateway.LambdaIntegration(receiver, allow_test_invoke=False),
            api_key_required=True,
            request_validator=validator,
            request_models={
                JSON: apigateway.Model.from_model_name(self, "RefundRequestModelRef", model.ref)
            },
        )
        refund = refunds.add_resource("{refundId}")
        self.read_refund = refund.add_method(
            "GET",
            apigateway.LambdaIntegration(status_reader, allow_test_invoke=False),
            api_key_required=True,
            request_validator=validator,
            request_parameters={"method.request.path.refundId": True},
        )

        for method in (self.create_refund, self.read_refund):
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                acknowledge(
                    method,
                    rule,
                    "Callers are back-office systems, each identified by its own API key under "
                    "a usage plan; there are no end users to hold Cognito or IAM identities.",
                )

    def _api_key_secret(self, settings: ApiSettings) -> None:
        """The key's value, generated by Secrets Manager under a KMS key of the stage's own.

        The AWS managed key cannot be shared with another account, so the secret has its own
        key, whose policy and the secret's resource policy let the reader decrypt through
        Secrets Manager and read the value, nothing more.
        """
        stack = cdk.Stack.of(self)
        reader = settings.key_reader
        reader_arn = stack.format_arn(
            service="iam",
            region="",
            account=reader.account,
            resource="role",
            resource_name=reader.role_name,
        )
        # The reader's account is the principal and the role a condition: a policy naming a role
        # that does not exist yet is refused, and a laptop deploy may come before the pipeline.
        reader_principal = iam.AccountPrincipal(reader.account).with_conditions(
            {"StringEquals": {"aws:PrincipalArn": reader_arn}}
        )

        self.api_key_encryption_key = kms.Key(
            self,
            "ApiKeySecretKey",
            description=f"Encrypts the secret {settings.api_key_secret_name}",
            enable_key_rotation=True,
            removal_policy=settings.removal_policy,
        )
        self.api_key_encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                principals=[reader_principal],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"
                    },
                },
            )
        )

        # Generated by Secrets Manager; the template holds only a dynamic reference to it.
        self.api_key_secret = secretsmanager.Secret(
            self,
            "ApiKeySecret",
            secret_name=settings.api_key_secret_name,
            description="Value of the refund API key",
            encryption_key=self.api_key_encryption_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=API_KEY_LENGTH, exclude_punctuation=True, include_space=False
            ),
        )
        self.api_key_secret.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                principals=[reader_principal],
                resources=["*"],
            )
        )
        policy = self.api_key_secret.node.find_child("Policy").node.default_child
        assert isinstance(policy, secretsmanager.CfnResourcePolicy)
        # Secrets Manager then refuses any later statement that would open the secret to anyone.
        policy.block_public_policy = True
        acknowledge(
            self.api_key_secret,
            "AwsSolutions-SMG4",
            "The secret is the API key's value; rotating it means creating a new API key and "
            "moving callers to it, which is a planned change, not a Lambda rotation.",
        )

    def _api_key_and_usage_plan(self, settings: ApiSettings) -> None:
        self.api_key = apigateway.ApiKey(
            self,
            "ApiKey",
            description="Refund API key; its value is in Secrets Manager",
            value=self.api_key_secret.secret_value.unsafe_unwrap(),
        )

        plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            description="Throttle and daily quota per API key",
            throttle=apigateway.ThrottleSettings(
                rate_limit=settings.throttle.rate_limit,
                burst_limit=settings.throttle.burst_limit,
            ),
            quota=apigateway.QuotaSettings(
                limit=settings.throttle.quota_per_day, period=apigateway.Period.DAY
            ),
        )
        plan.add_api_stage(stage=self.stage)
        plan.add_api_key(self.api_key)
