"""Label maps (one class name per line, line i = class i) and the label pairs swapped by a horizontal flip.

Something-Something has classes whose meaning mirrors under a left-right flip ("Pushing something from left to
right" becomes "... right to left"); a flip augmentation has to swap their labels. MMAction2 hard-codes these
pairs (SSv2 86↔87, 93↔94, 166↔167; SSv1 2↔4, 30↔41, 52↔66); :func:`flip_pairs_from_names` derives them from
the class names (left ↔ right, clockwise ↔ anticlockwise / counterclockwise), which also covers other label maps
such as Jester's and the synthetic data's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

# MMAction2's ``flip_label_map`` of the Something-Something configs, as unordered pairs.
SSV2_FLIP_PAIRS: tuple[tuple[int, int], ...] = ((86, 87), (93, 94), (166, 167))
SSV1_FLIP_PAIRS: tuple[tuple[int, int], ...] = ((2, 4), (30, 41), (52, 66))

_MIRROR_WORDS = {"left": "right", "right": "left", "clockwise": "anticlockwise", "anticlockwise": "clockwise"}
_MIRROR_PATTERN = re.compile(r"\b(" + "|".join(_MIRROR_WORDS) + r")\b")


def read_label_map(path: str | Path) -> list[str]:
    """Class names of a label map file, in class-index order (blank trailing lines ignored)."""
    path = Path(path)
    names = [line.strip() for line in path.read_text().splitlines()]
    while names and not names[-1]:
        names.pop()
    for number, name in enumerate(names, start=1):
        if not name:
            raise ValueError(f"{path}:{number}: empty class name")
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate class names")
    return names


def write_label_map(path: str | Path, names: Sequence[str]) -> Path:
    """Write one class name per line; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\n" for name in names))
    return path


def _canonical(name: str) -> str:
    return re.sub(r"\bcounterclockwise\b", "anticlockwise", name.lower())


def _mirror(name: str) -> str:
    return _MIRROR_PATTERN.sub(lambda m: _MIRROR_WORDS[m.group(1)], _canonical(name))


def flip_pairs_from_names(names: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Pairs ``(i, j)``, ``i < j``, whose names differ only by mirrored direction words (case-insensitive):
    "left" ↔ "right", "clockwise" ↔ "anticlockwise" (or "counterclockwise")."""
    index = {_canonical(name): i for i, name in enumerate(names)}
    pairs = {tuple(sorted((i, index[_mirror(name)]))) for i, name in enumerate(names) if _mirror(name) in index}
    return tuple(sorted(p for p in pairs if p[0] != p[1]))


def flip_label_map(pairs: Sequence[Sequence[int]] | Mapping[int, int] | None) -> dict[int, int]:
    """A symmetric ``{label: mirrored label}`` dict from pairs (or an MMAction2-style one-way/two-way mapping)."""
    if not pairs:
        return {}
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    mapping: dict[int, int] = {}
    for pair in items:
        a, b = (int(v) for v in pair)
        for src, dst in ((a, b), (b, a)):
            if mapping.get(src, dst) != dst:
                raise ValueError(f"flip pairs: label {src} is paired with both {mapping[src]} and {dst}")
            mapping[src] = dst
    return mapping
