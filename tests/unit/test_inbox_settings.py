"""The request inbox's settings: the trust page's 24 hours as the default and the limit,
one plain operators' address, a bounded per-address rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.config import Settings
from strongroom.errors import ConfigurationError


def test_the_defaults_keep_the_trust_pages_promise(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path).validate()
    assert settings.response_hours == 24
    assert settings.inbox_notify == ""
    assert settings.inbox_requests_per_address_hour == 5
    Settings(home=tmp_path, response_hours=4, inbox_notify="ops@saas.example").validate()


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"response_hours": 25}, "promised a first reply within 24 hours"),
        ({"response_hours": 0}, "response_hours must be between 1 and 24"),
        ({"inbox_notify": "ops@saas.example\r\nBcc: x@evil.example"}, "one plain email"),
        ({"inbox_notify": "a@x.example, b@x.example"}, "one plain email"),
        ({"inbox_notify": "Ops <ops@saas.example>"}, "one plain email"),
        ({"inbox_notify": "nobody"}, "one plain email"),
        ({"inbox_requests_per_address_hour": 0}, "between 1 and 1000"),
    ],
)
def test_values_that_break_the_promise_or_the_mail_are_refused(
    tmp_path: Path, values: dict[str, object], words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words):
        Settings(home=tmp_path, **values).validate()  # type: ignore[arg-type]
