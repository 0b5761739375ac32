"""Training and evaluation: configs, recipes (optimizers, schedules), resumable loops, metrics, distributed runs.

The command line (``videoshift train / test / predict``) is a thin layer over :mod:`videoshift.engine.runner`;
the loop itself is :class:`videoshift.engine.train.Trainer`.
"""
