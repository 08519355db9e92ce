"""Pushing 双公示 records (administrative licensing and penalty decisions) to 信用烟台 over HTTP.

A push is one message: ``publish`` carries a record's standard fields in full (the credit platform
needs the real values), ``withdraw`` takes a record back with a reason. Every message has an
idempotency key derived from its content, so a push that is sent again — after a timeout whose
answer was lost, or by the scheduler's next round — is recognised by the receiver and stored once.

``CreditClient.send`` retries a few times within the call on failures that may pass (connection
errors, timeouts, 408, 429, 5xx); what still fails raises ``PushError`` saying whether the stored
push is worth trying later (``retryable``), and ``retry_delay`` spaces those later tries.

Record values are personal data (names, ID numbers): no message or error here ever contains them,
and the receiver's error bodies are not quoted either, since a receiver may echo the request.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ckanext.yantai.disclosure.standard import RECORD_TYPES

KINDS = ("publish", "withdraw")
WITHDRAW_REASONS = ("revoked", "expired", "not_for_publication", "invalid", "deleted")
RETRY_AFTER_CAP = 30.0  # seconds; a longer wait belongs to the scheduler, not to one call
RETRYABLE_STATUS = frozenset({408, 429})  # and every 5xx


@dataclass(frozen=True)
class Push:
    """One message to the credit site.

    Attributes:
        kind: ``publish`` or ``withdraw``.
        record_type: ``license`` (行政许可) or ``penalty`` (行政处罚).
        record_key: The portal's stable key of the record.
        record: For ``publish`` the record's standard fields with their full values; for
            ``withdraw`` it may be empty.
        reason: Why a record is withdrawn (one of ``WITHDRAW_REASONS``); None for ``publish``.
        source: The publishing department's name (the CKAN organization name).
        generation: How many withdrawals of the record were delivered before this message. A
            record published again after a withdrawal (and withdrawn again after that) is a new
            message, not a duplicate of the first one with the same content.

    Raises:
        ValueError: An unknown kind, record type or reason, an empty key, or a withdrawal without
            a reason (the messages name the field, never a record value).
    """

    kind: str
    record_type: str
    record_key: str
    record: Mapping[str, str]
    reason: str | None = None
    source: str | None = None
    generation: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if self.record_type not in RECORD_TYPES:
            raise ValueError(f"record_type must be one of {', '.join(RECORD_TYPES)}")
        if not self.record_key:
            raise ValueError("record_key is empty")
        if self.kind == "withdraw" and self.reason not in WITHDRAW_REASONS:
            raise ValueError(f"a withdrawal needs a reason: one of {', '.join(WITHDRAW_REASONS)}")
        if self.kind == "publish" and self.reason is not None:
            raise ValueError("a publication has no reason")
        if not isinstance(self.generation, int) or self.generation < 0:
            raise ValueError("generation is a count, 0 or more")

    def payload(self) -> dict[str, Any]:
        """The JSON body of the message."""
        return {"kind": self.kind, "record_type": self.record_type, "record_key": self.record_key,
                "record": dict(self.record), "reason": self.reason, "source": self.source,
                "generation": self.generation}


def idempotency_key(push: Push) -> str:
    """The message's idempotency key: the same content always gives the same key.

    A SHA-256 hex digest of the kind, record type, record key, reason, the record's canonical
    JSON and, from the first republication on, the generation. ``source`` is left out: renaming a
    department does not make a record a new message. (Generation 0 is left out too, so the keys
    of messages filed before generations existed still match.)
    """
    # One JSON array rather than joined strings, so that no two different contents can collide
    # through a separator appearing inside a value.
    parts: list[Any] = [push.kind, push.record_type, push.record_key, push.reason,
                        dict(push.record)]
    if push.generation:
        parts.append(push.generation)
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Receipt:
    """The credit site's acknowledgement of a message.

    Attributes:
        receipt_id: The receiver's id for the message (the same for every resend of it).
        received_at: When the receiver first got it, ISO 8601 as the receiver says.
        status_code: The HTTP status of the answer (201 new, 200 already known).
        duplicate: The receiver had this idempotency key already.
    """

    receipt_id: str
    received_at: str
    status_code: int
    duplicate: bool


class PushError(Exception):
    """A message that the credit site did not acknowledge.

    The message is in English and never contains record values.

    Attributes:
        retryable: Whether sending the same push later may succeed (the site was unreachable,
            overloaded or failing); False when it refused the message itself (4xx, a redirect),
            which needs a person to look at the push or the client's configuration.
        status_code: The last HTTP status, None when no answer came.
    """

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code


class CreditClient:
    """Sends pushes to the credit site's ``/disclosures`` endpoint.

    Args:
        endpoint: The site's base URL, e.g. ``https://credit.yantai.gov.cn/api``.
        token: Bearer token, if the site requires one.
        timeout: Seconds to wait for connecting and for each read.
        attempts: Attempts per ``send`` call on failures that may pass (at least 1).
        backoff: Seconds before the second attempt; doubled before each further one.
        sleep: Waits between attempts (injectable for tests).
        session: The HTTP session to use; a new one by default.

    Raises:
        ValueError: ``attempts`` is below 1.
    """

    def __init__(self, endpoint: str, token: str | None = None, timeout: float = 10.0,
                 attempts: int = 3, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.url = endpoint.rstrip("/") + "/disclosures"
        self.token = token
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self.session = session or requests.Session()

    def send(self, push: Push) -> Receipt:
        """Send one push, retrying within the call on failures that may pass.

        Returns:
            The receiver's receipt; ``duplicate`` when it had the message already.

        Raises:
            PushError: Not acknowledged; ``retryable`` says whether to try again later.
        """
        key = idempotency_key(push)
        headers = {"Idempotency-Key": key, "Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps(push.payload(), ensure_ascii=False).encode("utf-8")
        for attempt in range(1, self.attempts + 1):
            try:
                return self._attempt(body, headers)
            except _Transient as exc:
                if attempt == self.attempts:
                    raise PushError(str(exc), retryable=True, status_code=exc.status_code) from None
                wait = exc.retry_after
                self.sleep(self.backoff * 2 ** (attempt - 1) if wait is None else wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _attempt(self, body: bytes, headers: Mapping[str, str]) -> Receipt:
        """One POST.

        Raises:
            _Transient: A failure worth another attempt within this call.
            PushError: Any other failure.
        """
        try:
            resp = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout,
                                     allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient(f"POST {self.url}: no answer ({type(exc).__name__})") from None
        except requests.RequestException as exc:  # e.g. an invalid endpoint URL
            raise PushError(f"POST {self.url}: {type(exc).__name__}", retryable=False) from None
        status = resp.status_code
        # The body is never quoted in errors: a receiver may echo the record back.
        if 200 <= status < 300:
            receipt = _receipt(resp) if status in (200, 201) else None
            if receipt is None:
                # Acknowledged without proof: a later resend (same key) gets the receipt.
                raise PushError(f"POST {self.url}: HTTP {status} without a usable receipt",
                                retryable=True, status_code=status)
            return receipt
        if status >= 500 or status in RETRYABLE_STATUS:
            raise _Transient(f"POST {self.url}: HTTP {status}", status, _retry_after(resp))
        what = "redirect (not followed)" if 300 <= status < 400 else "refused"
        raise PushError(f"POST {self.url}: HTTP {status} {what}", retryable=False,
                        status_code=status)


class _Transient(PushError):
    """A failure that may pass within seconds: retried inside ``send``."""

    def __init__(self, message: str, status_code: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, retryable=True, status_code=status_code)
        self.retry_after = retry_after


def _receipt(resp: requests.Response) -> Receipt | None:
    try:
        data = resp.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    receipt_id, received_at, duplicate = (data.get("receipt_id"), data.get("received_at"),
                                          data.get("duplicate"))
    if not (isinstance(receipt_id, str) and receipt_id and isinstance(received_at, str)
            and received_at and isinstance(duplicate, bool)):
        return None
    return Receipt(receipt_id, received_at, resp.status_code, duplicate)


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds from a numeric Retry-After header, capped; None when absent or a date."""
    try:
        seconds = float(resp.headers.get("Retry-After", ""))
    except ValueError:
        return None
    if not 0 <= seconds < float("inf"):  # also refuses NaN
        return None
    return min(seconds, RETRY_AFTER_CAP)


def retry_delay(failures: int, base: float = 60.0, cap: float = 6 * 3600.0) -> float:
    """Seconds before a stored push is tried again after ``failures`` failed ``send`` calls.

    ``base`` after the first failure, doubling with each further one, never more than ``cap``
    (by default: 1 min, 2 min, 4 min … 6 h). 0 when nothing has failed yet.

    Raises:
        ValueError: ``failures`` is negative.
    """
    if failures < 0:
        raise ValueError("failures cannot be negative")
    if failures == 0:
        return 0.0
    # Bound the exponent so that a long-failing push cannot overflow the float.
    return min(cap, base * 2.0 ** min(failures - 1, 64))
