"""The stateful stack: the single table, the refund queue and its dead-letter queue."""

from typing import Any

from tests.infrastructure.templates import only_resource, resources_of

DAY = 24 * 60 * 60
PROCESSOR_TIMEOUT_SECONDS = 30


def _queues(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(refund queue, dead-letter queue) properties, told apart by the redrive policy."""
    queues = resources_of(template, "AWS::SQS::Queue")
    main = next(q["Properties"] for q in queues.values() if "RedrivePolicy" in q["Properties"])
    dead = next(q["Properties"] for q in queues.values() if "RedrivePolicy" not in q["Properties"])
    return main, dead


def test_table_is_keyed_by_string_pk_and_sk(stateful_json: dict[str, Any]) -> None:
    table = only_resource(stateful_json, "AWS::DynamoDB::Table")

    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ]


def test_table_has_no_index_because_no_service_queries_one(stateful_json: dict[str, Any]) -> None:
    table = only_resource(stateful_json, "AWS::DynamoDB::Table")

    assert "GlobalSecondaryIndexes" not in table
    assert "LocalSecondaryIndexes" not in table


def test_table_is_on_demand_with_point_in_time_recovery(stateful_json: dict[str, Any]) -> None:
    table = only_resource(stateful_json, "AWS::DynamoDB::Table")

    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_table_uses_an_aws_owned_key_so_no_role_needs_kms(stateful_json: dict[str, Any]) -> None:
    table = only_resource(stateful_json, "AWS::DynamoDB::Table")

    # DynamoDB always encrypts; SSEEnabled false selects the AWS owned key instead of a KMS key.
    assert table["SSESpecification"] == {"SSEEnabled": False}
    assert resources_of(stateful_json, "AWS::KMS::Key") == {}


def test_prod_table_is_protected_and_retained(synthesis: Any) -> None:
    resource = next(
        iter(resources_of(synthesis.template("Prod", "Stateful"), "AWS::DynamoDB::Table").values())
    )

    assert resource["Properties"]["DeletionProtectionEnabled"] is True
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_dev_table_can_be_deleted(synthesis: Any) -> None:
    resource = next(
        iter(resources_of(synthesis.template("Dev", "Stateful"), "AWS::DynamoDB::Table").values())
    )

    assert resource["Properties"]["DeletionProtectionEnabled"] is False
    assert resource["DeletionPolicy"] == "Delete"


def test_messages_move_to_the_dead_letter_queue_after_three_receives(
    stateful_json: dict[str, Any],
) -> None:
    main, _ = _queues(stateful_json)
    dead_letter_id = next(
        logical_id
        for logical_id, queue in resources_of(stateful_json, "AWS::SQS::Queue").items()
        if "RedrivePolicy" not in queue["Properties"]
    )

    assert main["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_letter_id, "Arn"]},
        "maxReceiveCount": 3,
    }


def test_visibility_timeout_is_six_processor_timeouts(
    stateful_json: dict[str, Any], stateless_json: dict[str, Any]
) -> None:
    main, _ = _queues(stateful_json)
    processor = next(
        f["Properties"]
        for f in resources_of(stateless_json, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "processor.handler.lambda_handler"
    )

    assert processor["Timeout"] == PROCESSOR_TIMEOUT_SECONDS
    assert main["VisibilityTimeout"] == 6 * processor["Timeout"]


def test_dead_letter_queue_keeps_messages_fourteen_days_longer_than_the_queue(
    stateful_json: dict[str, Any],
) -> None:
    main, dead = _queues(stateful_json)

    assert dead["MessageRetentionPeriod"] == 14 * DAY
    assert main["MessageRetentionPeriod"] == 4 * DAY


def test_both_queues_are_encrypted_with_sqs_managed_keys(stateful_json: dict[str, Any]) -> None:
    main, dead = _queues(stateful_json)

    assert main["SqsManagedSseEnabled"] is True
    assert dead["SqsManagedSseEnabled"] is True
    assert "KmsMasterKeyId" not in main
    assert "KmsMasterKeyId" not in dead


def test_both_queue_policies_deny_requests_without_tls(stateful_json: dict[str, Any]) -> None:
    policies = resources_of(stateful_json, "AWS::SQS::QueuePolicy").values()

    statements = [p["Properties"]["PolicyDocument"]["Statement"] for p in policies]
    assert len(statements) == 2
    for statement in statements:
        assert statement == [
            {
                "Action": "sqs:*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Resource": statement[0]["Resource"],
            }
        ]


def test_api_gateway_logs_through_an_account_role_without_managed_policies(
    stateful_json: dict[str, Any],
) -> None:
    account = only_resource(stateful_json, "AWS::ApiGateway::Account")
    role = only_resource(stateful_json, "AWS::IAM::Role")

    assert account["CloudWatchRoleArn"]["Fn::GetAtt"][1] == "Arn"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    assert "ManagedPolicyArns" not in role
    actions = {
        action
        for statement in role["Policies"][0]["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }
    assert actions == {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:FilterLogEvents",
        "logs:GetLogEvents",
        "logs:PutLogEvents",
    }


def test_api_gateway_account_setting_outlives_the_stack(stateful_json: dict[str, Any]) -> None:
    account = next(iter(resources_of(stateful_json, "AWS::ApiGateway::Account").values()))

    assert account["DeletionPolicy"] == "Retain"
