"""Delivery: a self-mutating pipeline deploying Dev, then Prod after approval, with smoke tests."""
