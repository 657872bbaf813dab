"""Documentation tests: the diagram renders from its source and the runbook covers every alarm."""
