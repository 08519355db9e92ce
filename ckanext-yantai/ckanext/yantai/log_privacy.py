"""Personal data kept out of the logs of every process that loads the portal's plugin.

CKAN logs at DEBUG what API requests carry ("Request data extracted: {...}"), so a 双公示
submission would put identity numbers into the log of any instance run with debug logging; an
exception message, a traceback, SQLAlchemy's report of a failed statement (its parameters) or a
PostgreSQL error's DETAIL ("Key (…)=(…)", "Failing row contains (…)") may quote values too. Every
log record is therefore masked where it is made (a log record factory), whatever logger, handler
or configuration writes it out: its message, its exception (rendered and masked here, so that no
handler renders the raw one) and its stack, by the same function that masks the public records'
identity numbers and mobiles (``disclosure.privacy.mask_identifiers``).
"""
from __future__ import annotations

import logging
import re
from typing import Any

from ckanext.yantai.disclosure.privacy import mask_identifiers

_installed = False
_formatter = logging.Formatter()

# Values a database error carries besides its message: SQLAlchemy's "[parameters: …]" line and
# PostgreSQL's DETAIL / CONTEXT / QUERY lines (a unique key, a failing row, a JSON document).
_VALUES = re.compile(r"^(\[parameters: |(?:DETAIL|CONTEXT|QUERY|STATEMENT):  ).*$", re.MULTILINE)


def mask_log_text(text: str) -> str:
    """A log text without statement parameters, database error details, identity numbers and
    mobiles."""
    if not text:
        return text
    return mask_identifiers(_VALUES.sub(
        lambda m: m[1] + ("hidden]" if m[1].startswith("[") else "(hidden)"), text))


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message, exception and stack masked (in place)."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to logging's own error report
        return record
    masked = mask_log_text(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = record.exc_text or _formatter.formatException(record.exc_info)
    # the rendered text replaces the exception: a handler that renders exc_info itself (a JSON
    # formatter, an error tracker) would write the raw one
    record.exc_info = None
    if record.exc_text:
        record.exc_text = mask_log_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_log_text(record.stack_info)
    return record


def install() -> None:
    """Mask every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(make_record(*args, **kwargs))

    logging.setLogRecordFactory(masked_record)
    _installed = True
