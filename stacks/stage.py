"""One deployable copy of the system: the stateful stack, then the stateless stack that uses it."""

import aws_cdk as cdk
from constructs import Construct

from stacks.config import StageConfig
from stacks.stateful.stack import StatefulStack
from stacks.stateless.stack import StatelessStack


def stack_name(config: StageConfig, part: str) -> str:
    """Fixed CloudFormation names, so a laptop deploy and the pipeline update the same stacks."""
    return f"Refunds-{config.name}-{part}"


class RefundStage(cdk.Stage):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        env = cdk.Environment(account=config.account, region=config.region)
        super().__init__(scope, id, env=env)
        self.stateful = StatefulStack(
            self, "Stateful", config=config, stack_name=stack_name(config, "Stateful"), env=env
        )
        self.stateless = StatelessStack(
            self,
            "Stateless",
            config=config,
            stateful=self.stateful.handoff,
            stack_name=stack_name(config, "Stateless"),
            env=env,
        )
        # The handoff is read by output name, not by token, so the order is stated here.
        self.stateless.add_stack_dependency(self.stateful)
