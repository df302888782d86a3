"""The magic's `%config RunsSql.<name>` traits, generated from `Settings` (its one home).

Each `Settings` field becomes a traitlets trait with the field's name, type, default and
description; a value is checked by `Settings` itself when assigned, so `%config
RunsSql.concurrency = 0` is refused at once (a `TraitError` with Settings' reason) and the
previous value stays in force. The names assigned so far are kept in `_chosen`: only
those are copied into the sessions, so a `Session(settings=...)` keeps its own. A new `Settings` field is a new trait with no edit here.
"""

from __future__ import annotations

import types
import typing
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, Int, TraitError, TraitType, Unicode, validate
from traitlets.config import Configurable

from runs_pandas.session import Settings

_TRAITS: dict[type, type[TraitType[Any, Any]]] = {bool: Bool, int: Int, float: Float, str: Unicode}


def setting_names() -> list[str]:
    """The names of the settings, in `Settings`' order."""
    return list(Settings.model_fields)


def _trait(field: FieldInfo) -> TraitType[Any, Any]:
    """A trait for one field: its type (None allowed when the field allows it), default, help."""
    annotation = field.annotation
    allow_none = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        allow_none = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else Any
    kind = _TRAITS.get(annotation, AnyTrait) if isinstance(annotation, type) else AnyTrait
    default = field.get_default(call_default_factory=True)
    trait: TraitType[Any, Any] = kind(default, allow_none=allow_none, help=field.description or "")
    return trait.tag(config=True)


def checked(name: str, value: Any) -> Any:
    """`value` as Settings takes it for `name`, or a TraitError saying why it is refused."""
    probe = Settings()
    try:
        setattr(probe, name, value)
    except ValidationError as exc:
        reasons = "; ".join(str(error["msg"]) for error in exc.errors())
        meaning = Settings.model_fields[name].description
        raise TraitError(
            f"RunsSql.{name} = {value!r} is refused: {reasons}"
            + (f" ({name}: {meaning})" if meaning else "")
            + "; the previous value stays in force"
        ) from None
    return getattr(probe, name)


def _validate(self: Configurable, proposal: Any) -> Any:
    name = str(proposal["trait"].name)
    value = checked(name, proposal["value"])
    # an assignment counts as chosen even when equal to the value in force (observers hear
    # only of changes); `%config` and config files are read from the config by the magic
    self.__dict__.setdefault("_chosen", set()).add(name)
    return value


def settings_traits() -> type[Configurable]:
    """A Configurable base class holding one validated trait per `Settings` field."""
    namespace: dict[str, Any] = {
        name: _trait(field) for name, field in Settings.model_fields.items()
    }
    namespace["_validate_setting"] = validate(*setting_names())(_validate)
    namespace["__doc__"] = "One trait per Settings field (generated; see runs_pandas.magic_settings)."
    return type("SettingsTraits", (Configurable,), namespace)


if TYPE_CHECKING:

    class SettingsTraits(Configurable):
        """What mypy sees: the traits themselves are generated at import."""

else:
    SettingsTraits = settings_traits()
