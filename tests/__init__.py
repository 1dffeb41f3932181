"""The test suite (pytest) and, under tests/bench, the benchmarks (`python -m tests.bench`)."""
