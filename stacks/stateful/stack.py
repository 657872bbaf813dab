"""Stack holding what outlives a deployment: the refund table and the queues."""

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.config import StageConfig


class StatefulStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
