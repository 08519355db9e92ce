"""Personal data kept out of the logs of every process that loads the portal's plugin.

CKAN logs at DEBUG what API requests carry ("Request data extracted: {...}"), so a 双公示
submission would put identity numbers into the log of any instance run with debug logging; an
exception message may quote a value too. Every log record's message is therefore masked where it
is made (a log record factory), whatever logger, handler or configuration writes it out.
"""
from __future__ import annotations

import logging
from typing import Any

from ckanext.yantai.disclosure import mask_identifiers

_installed = False


def install() -> None:
    """Mask identity numbers and mobile phones in every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to logging's own error report
            return record
        masked = mask_identifiers(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True
