"""Settings checks: the connector's own first, then the schema; no value is ever echoed."""

from __future__ import annotations

import pytest

from leadkit.configuration import check_config
from leadkit.errors import ConfigError

SCHEMA = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string"},
        "max_retries": {"type": "integer"},
        "mode": {"type": "string", "enum": ["add", "replace"]},
    },
    "required": ["api_key"],
}


def test_schema_errors_name_the_setting_but_never_its_value() -> None:
    config = {"api_key": "k-123456789", "max_retries": "sk-live-looks-secret", "mode": "oops-9f"}
    with pytest.raises(ConfigError) as caught:
        check_config(config, SCHEMA, secrets=["api_key"], checks=lambda: None)
    message = str(caught.value) + " ".join(caught.value.errors)
    assert "`max_retries` must be of type integer" in message
    assert "`mode` must be one of" in message
    assert "sk-live-looks-secret" not in message
    assert "oops-9f" not in message


def test_a_missing_required_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="api_key"):
        check_config({}, SCHEMA, secrets=["api_key"], checks=lambda: None)


def test_the_connectors_own_checks_run_before_the_schema() -> None:
    def refuse() -> None:
        raise ConfigError("`mode` must be `add` or `replace`")

    with pytest.raises(ConfigError, match="must be `add` or `replace`"):
        check_config({"max_retries": "x"}, SCHEMA, secrets=["api_key"], checks=refuse)
