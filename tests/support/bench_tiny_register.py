"""Imported by the memory subprocesses (``--import bench_tiny_register``): registers the tiny models."""

from bench_tiny_models import register

register()
