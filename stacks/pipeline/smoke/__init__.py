"""The smoke test the pipeline runs against each deployed stage, using only stdlib and boto3."""
