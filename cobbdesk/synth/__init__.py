"""Synthetic films and the demo study: tools for the demo, tests and benchmarks (not core)."""
