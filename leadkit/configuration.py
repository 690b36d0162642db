"""Settings checked before any request, in an order that keeps secrets masked: credentials
registered for redaction first, then the connector's own checks, then the JSON schema."""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable, Mapping

from jsonschema.validators import validator_for

from leadkit import redact
from leadkit.errors import ConfigError

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase


#: The last refusal, for the closing line (the SDK's own last line names no setting, and
#: `meltano config test` shows only the last line).
refused: list[str] = []


def check_plugin_config(
    plugin: PluginBase, secrets: Iterable[str], checks: Callable[[], None], *, validate: bool
) -> None:
    """After the SDK loaded `plugin`'s settings: mask secrets and, if asked, check them."""
    if validate:
        try:
            check_config(plugin.config, plugin.config_jsonschema, secrets=secrets, checks=checks)
        except ConfigError as error:
            refused[:] = error.errors or [str(error)]
            raise
    else:
        redact.install(plugin.config.get(name) for name in secrets)


def check_config(
    config: Mapping[str, t.Any],
    schema: dict[str, t.Any],
    *,
    secrets: Iterable[str],
    checks: Callable[[], None],
) -> None:
    """Mask `secrets`, run `checks`, then validate against `schema` (messages name settings)."""
    redact.install(config.get(name) for name in secrets)
    checks()
    validator = validator_for(schema)(schema)
    errors = sorted(_describe(error) for error in validator.iter_errors(dict(config)))
    if errors:
        raise ConfigError("; ".join(errors), errors=errors)


def _describe(error: t.Any) -> str:
    """What is wrong and where, never the value: it may be a credential."""
    where = "`" + ".".join(str(part) for part in error.absolute_path) + "`"
    if error.validator == "required":
        return f"a required setting is missing ({error.message.split(' ')[0]})"
    if error.validator == "type":
        return f"{where} must be of type {error.validator_value}"
    if error.validator == "enum":
        return f"{where} must be one of {error.validator_value}"
    if error.validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        return f"{where} must respect {error.validator} {error.validator_value}"
    return f"{where} is not valid ({error.validator})"
