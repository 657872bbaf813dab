"""Stack holding what can be replaced at any time: the API and the three functions."""

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.config import StageConfig
from stacks.stateful.stack import StatefulStack


class StatelessStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        stateful: StatefulStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.add_stack_dependency(stateful)
