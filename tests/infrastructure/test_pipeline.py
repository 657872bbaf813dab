"""The pipeline stack: stage order, approval, smoke tests, self-mutation and the smoke roles."""

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.pipeline.stack import STACK_NAME, PipelineStack
from stacks.stage import RefundStage
from tests.infrastructure.synth import REPO_ROOT, Synthesis, scratch_dir, synthesize
from tests.infrastructure.templates import only_resource, resources_of

TOOLING = "111111111111"
ACCOUNTS = {"Dev": "222222222222", "Prod": "333333333333"}
REGION = "eu-west-1"
LOG_ACTIONS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
REPORT_ACTIONS = {
    "codebuild:BatchPutCodeCoverages",
    "codebuild:BatchPutTestCases",
    "codebuild:CreateReport",
    "codebuild:CreateReportGroup",
    "codebuild:UpdateReport",
}
ARTIFACT_READ_ACTIONS = {"s3:GetBucket*", "s3:GetObject*", "s3:List*"}
# Asset and build-configuration hashes change with every edit to the code they cover.
HASH = re.compile(r"\b[0-9a-f]{64}\b")
Stages = dict[str, list[dict[str, Any]]]
ARTIFACT_KEY_ACTIONS = {
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
}


@pytest.fixture(scope="module")
def template(synthesis: Synthesis) -> dict[str, Any]:
    pipeline_template: dict[str, Any] = synthesis.assembly.get_stack_by_name(STACK_NAME).template
    return pipeline_template


@pytest.fixture(scope="module")
def stages(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Pipeline stage name -> its actions, in the order the pipeline declares them."""
    pipeline = only_resource(template, "AWS::CodePipeline::Pipeline")
    return {stage["Name"]: stage["Actions"] for stage in pipeline["Stages"]}


def _action(actions: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(action for action in actions if action["Name"] == name)


def _run_orders(actions: list[dict[str, Any]], stack_name: str) -> list[int]:
    return [
        action["RunOrder"]
        for action in actions
        if action["Configuration"].get("StackName") == stack_name
    ]


def _project(template: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][
        action["Configuration"]["ProjectName"]["Ref"]
    ]["Properties"]
    return properties


def _build_spec(template: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(_project(template, action)["Source"]["BuildSpec"])
    return spec


def _role_logical_id(template: dict[str, Any], role_name: str) -> str:
    return next(
        logical_id
        for logical_id, role in resources_of(template, "AWS::IAM::Role").items()
        if role["Properties"].get("RoleName") == role_name
    )


def _statements_of(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_pipeline_runs_source_build_self_mutation_assets_then_dev_then_prod(stages: Stages) -> None:
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", "Dev", "Prod"]


def test_source_is_the_configured_repository_and_branch_through_the_connection(
    stages: Stages,
) -> None:
    (source,) = stages["Source"]

    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "example-org/refund-automation"
    assert source["Configuration"]["BranchName"] == "main"
    assert source["Configuration"]["ConnectionArn"] == (
        f"arn:aws:codeconnections:{REGION}:{TOOLING}:connection/"
        "00000000-0000-0000-0000-000000000000"
    )


def test_synth_installs_from_the_lockfiles_runs_the_tests_then_synthesizes(
    template: dict[str, Any], stages: Stages
) -> None:
    spec = _build_spec(template, _action(stages["Build"], "Synth"))

    assert spec["phases"]["install"]["commands"] == ["make install"]
    assert spec["phases"]["build"]["commands"] == ["make test", "make synth"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"


def test_every_build_runs_on_standard_7_with_python_3_11_and_node_22(
    template: dict[str, Any],
) -> None:
    projects = resources_of(template, "AWS::CodeBuild::Project")
    inline = [p for p in projects.values() if p["Properties"]["Source"]["BuildSpec"][0] == "{"]

    assert {p["Properties"]["Environment"]["Image"] for p in projects.values()} == {
        "aws/codebuild/standard:7.0"
    }
    assert len(inline) == 4
    for project in inline:
        spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
        assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "22"}


def test_pipeline_updates_itself_with_the_pinned_cli_before_deploying(
    template: dict[str, Any], stages: Stages
) -> None:
    spec = _build_spec(template, _action(stages["UpdatePipeline"], "SelfMutate"))
    package = json.loads((REPO_ROOT / "package.json").read_text())

    assert spec["phases"]["install"]["commands"] == [
        f"npm install -g aws-cdk@{package['devDependencies']['aws-cdk']}"
    ]
    assert spec["phases"]["build"]["commands"] == [
        f"cdk -a . deploy {STACK_NAME} --require-approval=never --verbose"
    ]


def test_dev_deploys_without_approval(stages: Stages) -> None:
    assert [a for a in stages["Dev"] if a["ActionTypeId"]["Category"] == "Approval"] == []


def test_prod_waits_for_a_manual_approval_before_any_deployment(stages: Stages) -> None:
    approval = _action(stages["Prod"], "PromoteToProd")
    deployments = [a for a in stages["Prod"] if a["ActionTypeId"]["Category"] == "Deploy"]

    assert approval["ActionTypeId"]["Category"] == "Approval"
    assert approval["RunOrder"] == 1
    assert min(action["RunOrder"] for action in deployments) == 2


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_stateful_stack_deploys_before_stateless_stack(stages: Stages, stage_name: str) -> None:
    actions = stages[stage_name]
    stateful = _run_orders(actions, f"Refunds-{stage_name}-Stateful")
    stateless = _run_orders(actions, f"Refunds-{stage_name}-Stateless")

    assert len(stateful) == 2
    assert len(stateless) == 2
    assert max(stateful) < min(stateless)


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_stateless_stack_depends_on_stateful_stack_in_the_pipeline_stage(
    synthesis: Synthesis, stage_name: str
) -> None:
    nested = synthesis.assembly.get_nested_assembly(f"assembly-{STACK_NAME}-{stage_name}")
    stacks = {stack.stack_name: stack for stack in nested.stacks}
    stateless = stacks[f"Refunds-{stage_name}-Stateless"]

    assert stacks[f"Refunds-{stage_name}-Stateful"].id in [d.id for d in stateless.dependencies]


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_pipeline_deploys_the_same_stacks_a_direct_deploy_updates(
    synthesis: Synthesis, stage_name: str
) -> None:
    def names(assembly: str) -> list[tuple[str, str]]:
        nested = synthesis.assembly.get_nested_assembly(assembly)
        return sorted((stack.stack_name, stack.environment.account) for stack in nested.stacks)

    assert names(f"assembly-{STACK_NAME}-{stage_name}") == names(f"assembly-{stage_name}")
    assert names(f"assembly-{stage_name}") == [
        (f"Refunds-{stage_name}-Stateful", ACCOUNTS[stage_name]),
        (f"Refunds-{stage_name}-Stateless", ACCOUNTS[stage_name]),
    ]


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_stage_deploys_into_its_own_account(stages: Stages, stage_name: str) -> None:
    deployments = [a for a in stages[stage_name] if a["ActionTypeId"]["Category"] == "Deploy"]

    for action in deployments:
        assert action["RoleArn"]["Fn::Join"][1][-1] == (
            f":iam::{ACCOUNTS[stage_name]}:role/"
            f"cdk-hnb659fds-deploy-role-{ACCOUNTS[stage_name]}-{REGION}"
        )


@pytest.mark.parametrize(("stage_name", "mode"), [("Dev", "full"), ("Prod", "read-only")])
def test_smoke_test_runs_last_in_each_stage_in_its_mode(
    template: dict[str, Any], stages: Stages, stage_name: str, mode: str
) -> None:
    actions = stages[stage_name]
    smoke = _action(actions, "SmokeTest")
    spec = _build_spec(template, smoke)

    assert smoke["RunOrder"] == max(action["RunOrder"] for action in actions)
    assert smoke["RunOrder"] > max(_run_orders(actions, f"Refunds-{stage_name}-Stateless"))
    assert spec["phases"]["install"]["commands"] == [
        "python3 -m pip install --quiet --disable-pip-version-check "
        "--constraint requirements.txt boto3"
    ]
    assert spec["phases"]["build"]["commands"] == [
        f"python3 stacks/pipeline/smoke/checks.py --mode {mode}"
    ]


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_smoke_test_reads_url_and_secret_from_the_stateless_outputs(
    stages: Stages, stage_name: str
) -> None:
    actions = stages[stage_name]
    namespace = next(
        action["Namespace"]
        for action in actions
        if action["Configuration"].get("StackName") == f"Refunds-{stage_name}-Stateless"
        and "Namespace" in action
    )
    variables = json.loads(_action(actions, "SmokeTest")["Configuration"]["EnvironmentVariables"])

    assert sorted(variables, key=lambda variable: variable["name"]) == [
        {
            "name": "API_KEY_SECRET_ID",
            "type": "PLAINTEXT",
            "value": f"#{{{namespace}.ApiKeySecretArn}}",
        },
        {"name": "API_URL", "type": "PLAINTEXT", "value": f"#{{{namespace}.ApiUrl}}"},
    ]


def _joined(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def _canonical(statements: list[dict[str, Any]]) -> list[str]:
    """Statements as sorted JSON text, so that two policies compare regardless of order."""
    return sorted(json.dumps(statement, sort_keys=True) for statement in statements)


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_smoke_role_holds_exactly_its_secret_read_its_logs_and_artifact_read(
    template: dict[str, Any], stages: Stages, stage_name: str
) -> None:
    account = ACCOUNTS[stage_name]
    name = f"refunds/{stage_name.lower()}/api-key"
    secret = f"arn:aws:secretsmanager:{REGION}:{account}:secret:{name}-??????"
    project = {
        "Ref": _action(stages[stage_name], "SmokeTest")["Configuration"]["ProjectName"]["Ref"]
    }
    (bucket_id,) = resources_of(template, "AWS::S3::Bucket")
    (key_id,) = resources_of(template, "AWS::KMS::Key")
    bucket = {"Fn::GetAtt": [bucket_id, "Arn"]}
    logs = f"arn:aws:logs:{REGION}:{TOOLING}:log-group:/aws/codebuild/"
    reports = f"arn:aws:codebuild:{REGION}:{TOOLING}:report-group/"
    role_id = _role_logical_id(template, f"Refunds-{stage_name}-SmokeTest")

    assert _canonical(_statements_of(template, role_id)) == _canonical(
        [
            {
                "Action": sorted(LOG_ACTIONS),
                "Effect": "Allow",
                "Resource": [_joined(logs, project, ":*"), _joined(logs, project)],
            },
            {
                "Action": sorted(REPORT_ACTIONS),
                "Effect": "Allow",
                "Resource": _joined(reports, project, "-*"),
            },
            {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": secret},
            {
                "Action": "kms:Decrypt",
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:SecretARN": secret},
                },
                "Effect": "Allow",
                "Resource": f"arn:aws:kms:{REGION}:{account}:key/*",
            },
            {
                "Action": sorted(ARTIFACT_READ_ACTIONS),
                "Effect": "Allow",
                "Resource": [bucket, _joined(bucket, "/*")],
            },
            {
                "Action": sorted(ARTIFACT_KEY_ACTIONS),
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
            },
        ]
    )


def _principal_arn_conditions(node: Any) -> list[str]:
    """Every aws:PrincipalArn condition value anywhere in a template."""
    if isinstance(node, dict):
        found = [str(node["aws:PrincipalArn"])] if "aws:PrincipalArn" in node else []
        return found + [arn for value in node.values() for arn in _principal_arn_conditions(value)]
    if isinstance(node, list):
        return [arn for value in node for arn in _principal_arn_conditions(value)]
    return []


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_stage_key_and_secret_policies_admit_exactly_this_pipelines_smoke_role(
    synthesis: Synthesis, template: dict[str, Any], stage_name: str
) -> None:
    role_id = _role_logical_id(template, f"Refunds-{stage_name}-SmokeTest")
    smoke_role = (
        f"arn:aws:iam::{TOOLING}:role/" + template["Resources"][role_id]["Properties"]["RoleName"]
    )
    nested = synthesis.assembly.get_nested_assembly(f"assembly-{STACK_NAME}-{stage_name}")
    stateless = next(
        stack for stack in nested.stacks if stack.stack_name == f"Refunds-{stage_name}-Stateless"
    )

    # One condition in the key policy, one in the secret's resource policy.
    assert _principal_arn_conditions(stateless.template) == [smoke_role, smoke_role]


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_smoke_role_is_for_codebuild_only_with_no_managed_policy(
    template: dict[str, Any], stage_name: str
) -> None:
    role_id = _role_logical_id(template, f"Refunds-{stage_name}-SmokeTest")
    role = template["Resources"][role_id]["Properties"]

    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role


@pytest.mark.parametrize("stage_name", ["Dev", "Prod"])
def test_smoke_role_serves_only_its_stage_smoke_test(
    template: dict[str, Any], stages: Stages, stage_name: str
) -> None:
    role_id = _role_logical_id(template, f"Refunds-{stage_name}-SmokeTest")
    users = [
        logical_id
        for logical_id, project in resources_of(template, "AWS::CodeBuild::Project").items()
        if project["Properties"]["ServiceRole"] == {"Fn::GetAtt": [role_id, "Arn"]}
    ]

    assert users == [
        _action(stages[stage_name], "SmokeTest")["Configuration"]["ProjectName"]["Ref"]
    ]


def test_artifact_key_rotates_and_encrypts_the_artifact_bucket(template: dict[str, Any]) -> None:
    ((key_id, key),) = resources_of(template, "AWS::KMS::Key").items()
    bucket = only_resource(template, "AWS::S3::Bucket")
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]

    assert key["Properties"]["EnableKeyRotation"] is True
    assert encryption["ServerSideEncryptionByDefault"] == {
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
        "SSEAlgorithm": "aws:kms",
    }


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return HASH.sub("<hash>", value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def test_pipeline_template_matches_its_snapshot(
    template: dict[str, Any], snapshot: SnapshotAssertion
) -> None:
    assert _masked(template) == snapshot(extension_class=JSONSnapshotExtension)


def test_a_wildcard_granted_to_a_smoke_role_fails_synth() -> None:
    def grant_every_secret(app: cdk.App, stages: dict[str, RefundStage]) -> None:
        pipeline = app.node.find_child(STACK_NAME)
        assert isinstance(pipeline, PipelineStack)
        pipeline.smoke_tests["Dev"].role.add_to_policy(
            iam.PolicyStatement(actions=["secretsmanager:*"], resources=["*"])
        )

    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        synthesize(scratch_dir("refunds-pipeline-nag-"), grant_every_secret)

    assert "AwsSolutions-IAM5[Action::secretsmanager:*]" in str(failure.value)
    assert f"{STACK_NAME}/DevSmokeTestRole/DefaultPolicy/Resource" in str(failure.value)
