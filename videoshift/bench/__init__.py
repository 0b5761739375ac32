"""Benchmarks: side-by-side measurements of operators, data loading and models."""
