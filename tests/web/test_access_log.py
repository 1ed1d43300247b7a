"""The access log keeps tracking tokens, report tokens and query values out."""

from __future__ import annotations

import logging
import logging.config

import pytest
from uvicorn.logging import AccessFormatter

from portal.web.access_log import RedactSecrets, redact_path, uvicorn_log_config

TOKEN = "Zk3vQx9_TtYw2sLr8pQ0aBcD"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/t/{TOKEN}", "/t/[redacted]"),
        (f"/t/{TOKEN}?lang=en", "/t/[redacted]?lang=[redacted]"),
        (f"/sms/reports/webhook/{TOKEN}", "/sms/reports/webhook/[redacted]"),
        (
            "/staff/requests?q=0800005001&status=received",
            "/staff/requests?q=[redacted]&status=[redacted]",
        ),
        ("/e-service/general-request/form", "/e-service/general-request/form"),
        ("/track", "/track"),
        ("/sms/reports/twilio", "/sms/reports/twilio"),
    ],
)
def test_secrets_in_paths_are_redacted(path: str, logged: str) -> None:
    assert redact_path(path) == logged


def test_an_access_record_is_formatted_without_the_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/t/{TOKEN}", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s').format(
        record
    )
    assert TOKEN not in line
    assert '"GET /t/[redacted] HTTP/1.1" 200' in line


def test_the_serve_log_config_puts_the_filter_on_the_access_handler() -> None:
    config = uvicorn_log_config()
    assert "redact_secrets" in config["handlers"]["access"]["filters"]
    logging.config.dictConfig(config)
    handler = logging.getLogger("uvicorn.access").handlers[0]
    assert any(isinstance(f, RedactSecrets) for f in handler.filters)
