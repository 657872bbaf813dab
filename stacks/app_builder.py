"""Assembles the app: cdk-nag on everything, one stage per configured environment, the pipeline."""

import aws_cdk as cdk

from stacks.config import pipeline_config, stage_configs
from stacks.nag import register_checks
from stacks.pipeline.stack import STACK_NAME, PipelineStack
from stacks.stage import RefundStage


def build(app: cdk.App) -> dict[str, RefundStage]:
    """Everything the app deploys; the stages are returned for callers that inspect them."""
    register_checks(app)
    PipelineStack(
        app, STACK_NAME, config=pipeline_config(app.node), stages=stage_configs(app.node).values()
    )
    return {
        config.name: RefundStage(app, config.name, config=config)
        for config in stage_configs(app.node).values()
    }
