"""Benchmarks: `python -m tests.bench` (or `make bench`); never collected by pytest.

Each module here measures one target of the performance issue and returns markdown tables;
`__main__` runs them, prints the tables under a header naming the machine, and writes them to
tests/bench/results/<device>.md and .json. Importing anything here has no side effects.
"""
