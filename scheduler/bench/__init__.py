"""Benchmark adapters: readers and independent checkers for published rostering benchmarks."""
