"""``KEY=VALUE`` assignments: the one parser behind every command-line flag that sets values.

``train/test --set``, ``export --model-kw``, ``bench ... --model-kw NAME:KEY=VALUE`` and ``bench models
--accuracy`` all read their items here, so a value means the same thing everywhere:

- the value is YAML, read with YAML 1.2 exponent floats: ``3`` is an int, ``1e-3`` and ``0.5`` are floats,
  ``true``/``false`` are bools, ``null`` and an empty value are ``None``, ``[16,7,7]`` is a list,
  ``{a: 1}`` a mapping, anything else (``resnet18``, ``T+H+W``) a string;
- the key may be dotted, ``a.b.c=1`` sets ``{"a": {"b": {"c": 1}}}``; a mapping value merges into a
  mapping already there;
- a malformed item (no ``=``, an empty key or key part, a value that is not YAML) raises ``ValueError``
  naming the item.

This module imports no torch, so that commands parse their arguments without it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that also reads ``1e-3`` as a float (PyYAML follows YAML 1.1, which needs ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely, with YAML 1.2 style exponent floats (config files and assignment values)."""
    return yaml.load(text, Loader=_Loader)


def parse_assignment(item: str) -> tuple[str, Any]:
    """Split ``"a.b.c=value"`` into the dotted key and the value read as YAML (see the module's rules).

    Raises:
        ValueError: ``item`` has no ``=``, an empty key or key part, or a value that is not YAML.
    """
    key, sep, raw = item.partition("=")
    if not sep:
        raise ValueError(f"expected KEY=VALUE, got {item!r}")
    return _key_and_value(key, raw, item)


def _key_and_value(key: str, raw: str, item: str) -> tuple[str, Any]:
    """The checked key and the YAML value of one assignment; errors name the whole ``item``."""
    key = key.strip()
    if not key:
        raise ValueError(f"expected KEY=VALUE, got {item!r}")
    if any(not part for part in key.split(".")):
        raise ValueError(f"key has an empty part in {item!r}")
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())  # PyYAML's message spans lines
        raise ValueError(f"cannot read the value of {item!r} as YAML: {reason}") from exc
    return key, value


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``update`` merged in recursively (mappings merge, everything else replaces)."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_path(target: dict[str, Any], dotted_key: str, value: Any) -> None:
    """Set ``target["a"]["b"]["c"] = value`` for ``dotted_key="a.b.c"``, creating missing sections.

    A mapping value is merged into an existing mapping (``optim={lr: 0.1}`` keeps the other optim keys).

    Raises:
        ValueError: a key part is empty, or a part on the way is set to something that is not a mapping.
    """
    path = dotted_key.split(".")
    if any(not part for part in path):
        raise ValueError(f"key has an empty part: {dotted_key!r}")
    node = target
    for part in path[:-1]:
        if node.get(part) is None:
            node[part] = {}
        if not isinstance(node[part], dict):
            raise ValueError(f"key {dotted_key!r}: {part!r} is not a section")
        node = node[part]
    if isinstance(value, Mapping) and isinstance(node.get(path[-1]), Mapping):
        node[path[-1]] = deep_merge(node[path[-1]], value)
    else:
        node[path[-1]] = copy.deepcopy(value)


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["a=1", "b.c=[2,3]"]`` → ``{"a": 1, "b": {"c": [2, 3]}}``; later items win."""
    out: dict[str, Any] = {}
    for item in items:
        set_path(out, *parse_assignment(item))
    return out


def parse_targeted_assignments(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``["name:key=value", ...]`` → ``{name: {key: value}}``: assignments aimed at one of several targets.

    The target is what comes before the first ``:`` of the part before ``=`` (a value may hold colons).

    Raises:
        ValueError: an item has no target, or its assignment is malformed (the item is named).
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        left, eq, raw = item.partition("=")
        target, colon, key = left.partition(":")
        if not (eq and colon and target.strip()):
            raise ValueError(f"expected NAME:KEY=VALUE, got {item!r}")
        set_path(out.setdefault(target.strip(), {}), *_key_and_value(key, raw, item))
    return out
