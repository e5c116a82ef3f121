"""Flat settings <-> config: the one mapping the command line and the form share.

A *settings* mapping names each value of an :class:`ExperimentConfig` by a flat,
stable name (``"epochs"``, ``"units"``, ``"train_start_year"``, ...) whose value
is a plain ``str``, ``int``, ``float``, ``bool``, ``None`` or a list of strings,
so it can go into a form, a JSON object or a page address. The names are the
field names of the config dataclasses, except ``split_method`` (the split's
``method``) and ``scale_low`` / ``scale_high`` (the two ends of ``scale_range``).

``config_from_settings(settings_from_config(c)) == c`` for every config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from types import MappingProxyType
from typing import Any

from forecasting.settings.config import (
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)

_PARTS: dict[str, type] = {
    "split": SplitConfig,
    "model": ModelConfig,
    "train": TrainConfig,
}
"""The fields of :class:`ExperimentConfig` that are configs of their own."""

_RENAMED = {("split", "method"): "split_method"}
_SCALE = ("scale_low", "scale_high")


def _nested_names() -> dict[str, tuple[str, str]]:
    """Setting name -> ``(part, field)`` for the fields of the nested configs."""
    names: dict[str, tuple[str, str]] = {}
    for part, cls in _PARTS.items():
        for item in fields(cls):
            names[_RENAMED.get((part, item.name), item.name)] = (part, item.name)
    return names


_NESTED = _nested_names()


def _setting_names() -> tuple[str, ...]:
    names: list[str] = []
    for item in fields(ExperimentConfig):
        if item.name in _PARTS:
            names += [n for n, (part, _) in _NESTED.items() if part == item.name]
        elif item.name == "scale_range":
            names += _SCALE
        else:
            names.append(item.name)
    return tuple(names)


SETTING_NAMES: tuple[str, ...] = _setting_names()
"""Every setting's name, in the order of the config's fields."""


def settings_from_config(config: ExperimentConfig) -> dict[str, Any]:
    """Return every value of a config under its flat setting name.

    Args:
        config: Any valid config.

    Returns:
        Name -> value for each of :data:`SETTING_NAMES`; ``columns`` and
        ``models`` are lists of strings, the rest plain scalars (or ``None``).
    """
    values: dict[str, Any] = {}
    for item in fields(ExperimentConfig):
        value = getattr(config, item.name)
        if is_dataclass(value):
            for name, (part, field_name) in _NESTED.items():
                if part == item.name:
                    values[name] = getattr(value, field_name)
        elif item.name == "scale_range":
            values[_SCALE[0]], values[_SCALE[1]] = value
        elif isinstance(value, tuple):
            values[item.name] = list(value)
        else:
            values[item.name] = value
    return values


DEFAULT_SETTINGS: Mapping[str, Any] = MappingProxyType(
    settings_from_config(ExperimentConfig())
)
"""The tutorial defaults as settings (read only)."""


def config_from_settings(
    settings: Mapping[str, Any], base: ExperimentConfig | None = None
) -> ExperimentConfig:
    """Build a validated config from settings; missing names come from ``base``.

    Args:
        settings: Name -> value, any subset of :data:`SETTING_NAMES`.
        base: The config whose values fill the names not given (a preset, or the
            tutorial defaults when ``None``).

    Returns:
        The config.

    Raises:
        ValueError: If a name is unknown, or a value is invalid (the message
            names the setting and the value).
    """
    unknown = [name for name in settings if name not in SETTING_NAMES]
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r}; the settings are "
            f"{', '.join(SETTING_NAMES)}"
        )
    start = DEFAULT_SETTINGS if base is None else settings_from_config(base)
    values = {**start, **settings}
    parts = {
        part: cls(
            **{
                field_name: values[name]
                for name, (owner, field_name) in _NESTED.items()
                if owner == part
            }
        )
        for part, cls in _PARTS.items()
    }
    top = {
        item.name: values[item.name]
        for item in fields(ExperimentConfig)
        if item.name not in _PARTS and item.name != "scale_range"
    }
    scale = (values[_SCALE[0]], values[_SCALE[1]])
    return ExperimentConfig(**top, **parts, scale_range=scale)  # type: ignore[arg-type]
