"""Benchmarks of flame-hub-client against raw httpx (issue 6): run ``python -m benchmarks``."""
