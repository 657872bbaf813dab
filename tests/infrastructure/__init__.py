"""Infrastructure tests: assertions on the synthesized CloudFormation templates."""
