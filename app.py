#!/usr/bin/env python3
"""CDK entry point: the Dev and Prod stages for direct deploys, and the pipeline that promotes them.

Synthesize through the CDK CLI (`make synth`): only the CLI passes cdk.json context, which holds
the feature flags and the stage settings.
"""

import sys
from pathlib import Path

import aws_cdk as cdk

# The stacks build the gateway model from the receiver's contract module (services/shared), which
# in Lambda sits at the asset root; the same folder goes on the path here.
sys.path.insert(0, str(Path(__file__).resolve().parent / "services"))

from stacks.app_builder import build


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
