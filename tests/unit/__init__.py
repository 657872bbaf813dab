"""Unit tests: every function rule, run against moto with no network."""
