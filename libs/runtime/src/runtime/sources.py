"""Where settings come from: the environment, then ``WELLSTREAM_<NAME>_FILE`` files.

A list of plain values (origins, algorithms) may be written the way people type it,
``a,b,c``, as well as a JSON list. A value that is not valid JSON is handed to
validation as it is, so a bad one fails there, naming its variable, instead of raising
from inside the source.
"""

import json
import os
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo
from pydantic_settings import EnvSettingsSource, PydanticBaseSettingsSource

PREFIX = "WELLSTREAM_"  # runtime.settings.PREFIX, which imports this module
_PLAIN = (str, int, float)


def plain_list(annotation: Any) -> bool:
    """``list[str]``, ``list[Literal[...]]``, optionally ``| None``: a list a person
    may write comma-separated."""
    if get_origin(annotation) in (Union, types.UnionType):
        return any(plain_list(arg) for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) not in (list, set, frozenset, tuple):
        return False
    items = get_args(annotation)
    return bool(items) and all(t in _PLAIN or get_origin(t) is Literal for t in items)


def decode(field: FieldInfo, value: str) -> Any:
    """A complex setting's text: JSON, or comma-separated items for a plain list."""
    text = value.strip()
    if plain_list(field.annotation) and not text.startswith("["):
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        return json.loads(text)
    except ValueError:
        return value  # validation names the variable and what it expects


class EnvSource(EnvSettingsSource):
    """The environment, with lists also comma-separated."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        return decode(field, value) if isinstance(value, str) else value


class FileSecretsSource(PydanticBaseSettingsSource):
    """Reads ``WELLSTREAM_<NAME>_FILE`` for every field not set directly."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{PREFIX}{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        try:
            content = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(
                f"{PREFIX}{field_name.upper()}_FILE: cannot read {path}: {exc.strerror}"
            ) from None
        return content, field_name, self.field_is_complex(field)

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, complex_ = self.get_field_value(field, name)
            if value is not None:
                values[key] = decode(field, value) if complex_ else value
        return values
