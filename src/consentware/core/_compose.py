"""Composing a policy from layers: the presets named in ``extends``, then the policy itself.

Layers merge in order and a later one wins, key by key:

- ``categories``: a category of the same name is merged key by key (a file that retitles
  ``statistical`` keeps the preset's description and Consent Mode types);
- ``cookies``: a rule of the same ``name`` (the pattern as written) is merged key by key, in the
  place of the first layer that declared it, so a file may change one key of a preset's rule
  (``category = "first_party"``, ``domains = [...]``) and keep the rest; new rules follow;
- ``consent_cookie`` is merged key by key; any other key is replaced.

The result is flat policy data, without ``extends``, for :func:`consentware.core._schema.load`
to validate. Each merged rule remembers which layer wrote it last (:class:`Origin`), so an
error names ``cookies[3]`` of the file, or ``extends[1]`` for a preset's rule.

Example::

    composed = compose({"extends": ["default", "flask"], "cookies": [{"name": "_ga", ...}]})
    composed.data["cookies"]     # default's rules, flask's session, then the file's new ones
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PolicyError
from .presets import PRESETS, preset_names

__all__ = ["Composed", "Origin", "compose"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a merged cookie rule was last written: ``path`` is what an error about it names
    (``cookies[3]`` of the policy, or ``extends[1]`` for the preset ``preset``)."""

    path: str
    preset: str | None = None


@dataclass(frozen=True, slots=True)
class Composed:
    """The flat policy data and, for each of its cookie rules, where it came from."""

    data: Mapping[str, Any]
    origins: tuple[Origin, ...]


def compose(data: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> Composed:
    """Merge the presets ``data`` extends (after ``base``, a policy it adds to), then ``data``.

    ``data`` must be a mapping; the schema checks everything else, except ``extends``, which is
    checked here: a list of known preset names, each once.
    """
    # Each layer with the origin of each of its rules (None: the policy's own, by index).
    layers: list[tuple[Mapping[str, Any], Sequence[Origin] | Origin | None]] = []
    if base is not None:
        composed = compose(base)
        layers.append((composed.data, composed.origins))
    for index, name in enumerate(_extends(data.get("extends", []))):
        layers.append((PRESETS[name], Origin(f"extends[{index}]", name)))
    own = {key: value for key, value in data.items() if key != "extends"}
    _check_own_duplicates(own.get("cookies"))
    layers.append((own, None))
    merged: dict[str, Any] = {}
    rules: dict[str, tuple[Any, Origin]] = {}
    # Rules no name can key (not a table, no string name) stay as written, for the schema to
    # refuse with their own path.
    unkeyed: list[tuple[Any, Origin]] = []
    own_rules_valid = True
    for layer, origin in layers:
        for key, value in layer.items():
            if key == "cookies":
                if not isinstance(value, list):
                    own_rules_valid = False
                    merged["cookies"] = value
                    continue
                for index, rule in enumerate(value):
                    where = _origin(origin, index)
                    pattern = rule.get("name") if isinstance(rule, Mapping) else None
                    if not isinstance(pattern, str):
                        unkeyed.append((rule, where))
                    elif pattern in rules:
                        rules[pattern] = ({**rules[pattern][0], **rule}, where)
                    else:
                        rules[pattern] = (dict(rule), where)
            elif key in merged and isinstance(merged[key], Mapping) and isinstance(value, Mapping):
                merged[key] = _merge_tables(merged[key], value, deep=key == "categories")
            else:
                merged[key] = value
    if own_rules_valid and (rules or unkeyed):
        entries = [*rules.values(), *unkeyed]
        merged["cookies"] = [rule for rule, _ in entries]
        return Composed(merged, tuple(origin for _, origin in entries))
    return Composed(merged, ())


def _origin(origins: Sequence[Origin] | Origin | None, index: int) -> Origin:
    if isinstance(origins, Origin):
        return origins
    if origins is not None and index < len(origins):
        return origins[index]
    return Origin(f"cookies[{index}]")


def _merge_tables(base: Mapping[str, Any], top: Mapping[str, Any], *, deep: bool) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if deep and isinstance(merged.get(key), Mapping) and isinstance(value, Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _extends(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise PolicyError(
            f'expected a list of preset names, such as ["default"], got {value!r}', path="extends"
        )
    seen: dict[str, int] = {}
    for index, name in enumerate(value):
        path = f"extends[{index}]"
        if not isinstance(name, str) or name not in PRESETS:
            known = ", ".join(preset_names())
            raise PolicyError(f"unknown preset {name!r} (known: {known})", path=path)
        if name in seen:
            raise PolicyError(f"{name!r} is already listed at extends[{seen[name]}]", path=path)
        seen[name] = index
    return list(value)


def _check_own_duplicates(value: Any) -> None:
    """Two rules of one name in the same policy are a mistake, not a merge."""
    if not isinstance(value, list):
        return
    seen: dict[str, int] = {}
    for index, rule in enumerate(value):
        name = rule.get("name") if isinstance(rule, Mapping) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            raise PolicyError(
                f"duplicate of cookies[{seen[name]}] ({name!r})", path=f"cookies[{index}].name"
            )
        seen[name] = index
