"""The one Logger and the one Metrics of a function, configured from its environment."""

import os

from aws_lambda_powertools import Logger, Metrics

# Service name, log level and metrics namespace come from the POWERTOOLS_* variables.
logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(stage=os.environ["STAGE"])
