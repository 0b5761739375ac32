"""The lower bounds in pyproject.toml are the versions CI tests in .ci/floor-constraints.txt."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _lower_bounds() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    bounds = {}
    for requirement in requirements:
        name, bound = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
        bounds[name.lower()] = bound
    return bounds


def _floor_pins() -> dict[str, str]:
    lines = (ROOT / ".ci" / "floor-constraints.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {name.lower(): version for name, version in pins}


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_every_dependency_has_a_lower_bound_and_ci_pins_it():
    bounds, pins = _lower_bounds(), _floor_pins()
    assert set(pins) == set(bounds) - {"ruff"}  # the linter runs at the newest version only
    for name, pin in pins.items():
        floor = _release(bounds[name])
        assert _release(pin)[: len(floor)] == floor, f"{name}: pyproject says >={bounds[name]}, CI tests {pin}"
