"""cdk-nag acknowledgments for what CDK Pipelines generates, each on the one role or bucket it is.

Every finding is named exactly, so a new wildcard that a CDK upgrade adds still fails synth.
"""

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import IConstruct

from stacks.pipeline.smoke_step import SmokeTest

ARTIFACT_READ = ("s3:GetBucket*", "s3:GetObject*", "s3:List*")
ARTIFACT_WRITE = ("s3:Abort*", "s3:DeleteObject*")
ARTIFACT_KEY = ("kms:GenerateDataKey*", "kms:ReEncrypt*")

_ARTIFACT_ACTIONS = (
    "CDK Pipelines grants access to the pipeline's artifact bucket and its key with these action "
    "groups; the grant names that one bucket and that one key."
)
_ARTIFACT_OBJECTS = (
    "Artifact object names are generated per execution; the grant covers the objects of this "
    "pipeline's own artifact bucket only."
)
_PROJECT_LOGS = (
    "CodeBuild names a new log stream for every build; the grant stays inside this project's own "
    "log group."
)
_PROJECT_REPORTS = (
    "CodeBuild report groups of a project carry generated suffixes; the grant stays within this "
    "project's prefix."
)


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def _iam5(construct: IConstruct, detail: str, reason: str) -> None:
    acknowledge(construct, f"AwsSolutions-IAM5[{detail}]", reason)


def _logical_id(construct: IConstruct) -> str:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement)
    return str(cdk.Stack.of(construct).resolve(child.logical_id))


def _regional_arn(stack: cdk.Stack, service: str, rest: str) -> str:
    return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{rest}"


def artifact_access(
    role: iam.IRole, bucket: s3.IBucket, *, writes: bool, key_actions: bool = True
) -> None:
    actions = ARTIFACT_READ + (ARTIFACT_WRITE if writes else ())
    for action in actions + (ARTIFACT_KEY if key_actions else ()):
        _iam5(role, f"Action::{action}", _ARTIFACT_ACTIONS)
    _iam5(role, f"Resource::<{_logical_id(bucket)}.Arn>/*", _ARTIFACT_OBJECTS)


def project_logs_and_reports(project: codebuild.IProject) -> None:
    role = _role(project)
    stack = cdk.Stack.of(project)
    name = f"<{_logical_id(project)}>"
    logs = _regional_arn(stack, "logs", f"log-group:/aws/codebuild/{name}:*")
    reports = _regional_arn(stack, "codebuild", f"report-group/{name}-*")
    _iam5(role, f"Resource::{logs}", _PROJECT_LOGS)
    _iam5(role, f"Resource::{reports}", _PROJECT_REPORTS)


def _self_mutation(project: codebuild.IProject) -> None:
    role = _role(project)
    account = cdk.Stack.of(project).account
    _iam5(
        role,
        f"Resource::arn:*:iam::{account}:role/*",
        "Self-mutation runs cdk deploy of this stack, assuming only the CDK bootstrap roles of "
        "this account, picked by their aws-cdk:bootstrap-role tag; their names embed a bootstrap "
        "qualifier this app does not know.",
    )
    _iam5(
        role,
        "Resource::*",
        "cdk deploy reads this stack's state (cloudformation:DescribeStacks) and locates the "
        "bootstrap bucket (s3:ListBucket) before it assumes a bootstrap role; neither action "
        "reads or changes data.",
    )


def _asset_publishing(role: iam.IRole) -> None:
    stack = cdk.Stack.of(role)
    _iam5(
        role,
        f"Resource::{_regional_arn(stack, 'logs', 'log-group:/aws/codebuild/*')}",
        "One role serves every asset-publishing project, whose names CDK generates; the grant "
        "is limited to CodeBuild log groups of this account and region.",
    )
    _iam5(
        role,
        f"Resource::{_regional_arn(stack, 'codebuild', 'report-group/*')}",
        "One role serves every asset-publishing project, whose names CDK generates; the grant "
        "is limited to CodeBuild report groups of this account and region.",
    )
    _iam5(
        role,
        "Resource::*",
        "CDK Pipelines gives its shared asset role build-control actions (codebuild:StartBuild, "
        "BatchGetBuilds, StopBuild); only this pipeline's asset projects can assume the role, "
        "and it reads no data beyond the artifact bucket.",
    )


def acknowledge_generated(pipeline: pipelines.CodePipeline) -> None:
    """Call after build_pipeline(): before it, the constructs named here do not exist yet."""
    codepipeline = pipeline.pipeline
    bucket = codepipeline.artifact_bucket
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "The bucket holds only this pipeline's intermediate artifacts, read and written by its "
        "own roles; every object is encrypted with the pipeline's KMS key, so each read is "
        "recorded in CloudTrail as a KMS Decrypt call.",
    )

    artifact_access(codepipeline.role, bucket, writes=True)
    # The connection source action runs under a role CodePipeline creates beside the action.
    for action in codepipeline.node.find_child("Source").node.children:
        source_role = action.node.find_child("CodePipelineActionRole")
        assert isinstance(source_role, iam.Role)
        artifact_access(source_role, bucket, writes=True)

    artifact_access(_role(pipeline.synth_project), bucket, writes=True)
    project_logs_and_reports(pipeline.synth_project)

    artifact_access(_role(pipeline.self_mutation_project), bucket, writes=False)
    project_logs_and_reports(pipeline.self_mutation_project)
    _self_mutation(pipeline.self_mutation_project)

    assets = pipeline.node.try_find_child("Assets")
    file_role = assets.node.try_find_child("FileRole") if assets else None
    if isinstance(file_role, iam.Role):
        artifact_access(file_role, bucket, writes=False, key_actions=False)
        _asset_publishing(file_role)


def smoke_test(smoke: SmokeTest, bucket: s3.IBucket) -> None:
    artifact_access(smoke.role, bucket, writes=False)
    project_logs_and_reports(smoke.step.project)
    _iam5(
        smoke.role,
        f"Resource::{smoke.decrypt_keys}",
        "The API key's secret is encrypted with a key created in the stage's account, whose id "
        "the pipeline cannot know; the conditions limit the decrypt to Secrets Manager reading "
        "this stage's API key secret.",
    )


def _role(project: codebuild.IProject) -> iam.IRole:
    role = project.role
    assert role is not None
    return role
