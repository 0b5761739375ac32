"""videoshift: efficient video action recognition with zero-parameter shift operators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("videoshift")
except PackageNotFoundError:  # a source tree that is not installed: the one version, pyproject.toml's
    import tomllib
    from pathlib import Path

    __version__ = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["version"]

__all__ = ["__version__"]
