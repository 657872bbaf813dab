"""Infrastructure of the refund system: stateful, stateless and pipeline stacks."""
