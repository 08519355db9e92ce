"""Pushing 双公示 records to the credit site, over real HTTP against the stand-in receiver (no
CKAN services: run alone with ``-p no:ckan``)."""
from __future__ import annotations

import http.server
import logging
import pathlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ckanext.yantai.disclosure.credit import (
    CreditClient,
    Push,
    PushError,
    idempotency_key,
    retry_delay,
)
from demo.credit_receiver import Receiver

pytestmark = pytest.mark.pure

ID_NUMBER = "370602199001011234"  # a made-up 身份证号: personal data that must not leak
RECORD = {"xk_xdr": "张三", "xk_xdr_zjhm": ID_NUMBER, "xk_wsh": "烟行许〔2025〕1号",
          "xk_jdrq": "2025-03-04"}

ROOT = pathlib.Path(__file__).resolve().parents[3]  # demo/ is run from the checkout


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


class CountingSession(requests.Session):
    """A session that counts the requests it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.requests += 1
        return super().request(*args, **kwargs)


def client(url: str, **kwargs: Any) -> tuple[CreditClient, list[float], CountingSession]:
    """A client whose waits are recorded instead of slept."""
    sleeps: list[float] = []
    session = CountingSession()
    kwargs.setdefault("timeout", 5)
    return CreditClient(url, sleep=sleeps.append, session=session, **kwargs), sleeps, session


def publish(record: dict[str, str] | None = None, key: str = "license-0001") -> Push:
    return Push("publish", "license", key, RECORD if record is None else record,
                source="烟台市行政审批服务局")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the message and its key ---------------------------------------------------------------------

def test_same_content_gives_the_same_key():
    assert idempotency_key(publish()) == idempotency_key(publish(dict(reversed(RECORD.items()))))
    renamed = Push("publish", "license", "license-0001", RECORD, source="another name")
    assert idempotency_key(renamed) == idempotency_key(publish())
    assert len(idempotency_key(publish())) == 64


@pytest.mark.parametrize("other", [
    publish({**RECORD, "xk_jdrq": "2025-03-05"}),
    publish(key="license-0002"),
    Push("publish", "penalty", "license-0001", RECORD),
    Push("withdraw", "license", "license-0001", RECORD, reason="revoked"),
])
def test_changed_content_gives_another_key(other):
    assert idempotency_key(other) != idempotency_key(publish())


def test_withdraw_reasons_differ_in_key():
    keys = {idempotency_key(Push("withdraw", "license", "k", {}, reason=r))
            for r in ("revoked", "expired")}
    assert len(keys) == 2


@pytest.mark.parametrize("args, kwargs", [
    (("announce", "license", "k", {}), {}),
    (("publish", "permit", "k", {}), {}),
    (("publish", "license", "", {}), {}),
    (("withdraw", "license", "k", {}), {}),
    (("withdraw", "license", "k", {}), {"reason": "bored"}),
    (("publish", "license", "k", {}), {"reason": "revoked"}),
])
def test_malformed_pushes_are_refused(args, kwargs):
    with pytest.raises(ValueError):
        Push(*args, **kwargs)


# -- sending -------------------------------------------------------------------------------------

def test_first_push_is_stored_with_a_receipt(receiver):
    c, sleeps, _ = client(receiver.url)
    receipt = c.send(publish())
    assert (receipt.status_code, receipt.duplicate) == (201, False)
    assert receipt.receipt_id and receipt.received_at.startswith("20")
    [message] = receiver.received()
    assert message == {"idempotency_key": idempotency_key(publish()),
                       "receipt_id": receipt.receipt_id, "received_at": receipt.received_at,
                       "kind": "publish", "record_type": "license", "record_key": "license-0001",
                       "record": RECORD, "reason": None, "source": "烟台市行政审批服务局",
                       "generation": 0}
    assert sleeps == []


def test_same_push_again_is_a_duplicate_with_the_same_receipt(receiver):
    c, _, _ = client(receiver.url + "/")  # a trailing slash on the endpoint is fine
    first = c.send(publish())
    again = c.send(publish())
    assert (again.status_code, again.duplicate) == (200, True)
    assert (again.receipt_id, again.received_at) == (first.receipt_id, first.received_at)
    assert len(receiver.received()) == 1


def test_generations_differ_in_key_and_generation_0_keeps_the_old_key():
    first = idempotency_key(publish())
    assert first == idempotency_key(Push("publish", "license", "license-0001", RECORD,
                                         source="烟台市行政审批服务局", generation=0))
    again = {idempotency_key(Push("publish", "license", "license-0001", RECORD, generation=g))
             for g in (1, 2)}
    assert first not in again and len(again) == 2
    with pytest.raises(ValueError):
        Push("publish", "license", "k", RECORD, generation=-1)


def test_changed_record_is_a_new_message(receiver):
    c, _, _ = client(receiver.url)
    first = c.send(publish())
    second = c.send(publish({**RECORD, "xk_jdrq": "2025-03-05"}))
    assert not second.duplicate and second.receipt_id != first.receipt_id
    assert [m["record"]["xk_jdrq"] for m in receiver.received()] == ["2025-03-04", "2025-03-05"]


def test_withdraw_messages(receiver):
    c, _, _ = client(receiver.url)
    c.send(publish())
    c.send(publish(key="license-0002"))
    receipt = c.send(Push("withdraw", "license", "license-0001", {}, reason="revoked",
                          source="烟台市行政审批服务局"))
    assert receipt.status_code == 201
    [withdrawal] = receiver.received(kind="withdraw")
    assert (withdrawal["record_key"], withdrawal["reason"], withdrawal["record"]) == (
        "license-0001", "revoked", {})
    listed = requests.get(f"{receiver.url}/disclosures",
                          params={"record_key": "license-0001"}, timeout=5).json()
    assert [m["kind"] for m in listed] == ["publish", "withdraw"]


def test_token_is_required_and_accepted():
    with Receiver(token="s3cret") as receiver:
        with pytest.raises(PushError) as missing:
            client(receiver.url)[0].send(publish())
        assert (missing.value.status_code, missing.value.retryable) == (401, False)
        with pytest.raises(PushError) as wrong:
            client(receiver.url, token="guess")[0].send(publish())
        assert wrong.value.status_code == 401
        assert client(receiver.url, token="s3cret")[0].send(publish()).status_code == 201
        assert requests.get(f"{receiver.url}/disclosures", timeout=5).status_code == 401
        assert requests.get(f"{receiver.url}/health", timeout=5).json() == {"ok": True}


# -- retries -------------------------------------------------------------------------------------

def test_retries_after_injected_503s_succeed(receiver):
    c, sleeps, session = client(receiver.url, backoff=0.5)
    receiver.fail_next(2, status=503)
    receipt = c.send(publish())
    assert receipt.status_code == 201
    assert sleeps == [0.5, 1.0]
    assert session.requests == 3
    assert len(receiver.received()) == 1


@pytest.mark.parametrize("status", [500, 502, 408, 429])
def test_exhausted_attempts_raise_a_retryable_error(receiver, status):
    c, sleeps, session = client(receiver.url, attempts=4, backoff=0.25)
    receiver.fail_next(4, status=status)
    with pytest.raises(PushError) as error:
        c.send(publish())
    assert (error.value.retryable, error.value.status_code) == (True, status)
    assert sleeps == [0.25, 0.5, 1.0]
    assert session.requests == 4
    assert receiver.received() == []


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_other_4xx_fail_at_once(receiver, status):
    c, sleeps, session = client(receiver.url)
    receiver.fail_next(1, status=status)
    with pytest.raises(PushError) as error:
        c.send(publish())
    assert (error.value.retryable, error.value.status_code) == (False, status)
    assert (session.requests, sleeps) == (1, [])


@pytest.mark.parametrize("retry_after, wait", [(2, 2.0), (0, 0.0), (120, 30.0)])
def test_retry_after_is_honoured_up_to_30_s(receiver, retry_after, wait):
    c, sleeps, _ = client(receiver.url, backoff=0.5)
    receiver.fail_next(1, status=429, retry_after=retry_after)
    assert c.send(publish()).status_code == 201
    assert sleeps == [wait]


def test_2xx_without_a_receipt_is_retryable(receiver):
    c, sleeps, session = client(receiver.url)
    receiver.fail_next(1, status=202)  # the injected answer carries no receipt
    with pytest.raises(PushError) as error:
        c.send(publish())
    assert (error.value.retryable, error.value.status_code) == (True, 202)
    assert session.requests == 1


def test_redirects_are_not_followed(receiver):
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)
            self.send_header("Location", f"{receiver.url}/disclosures")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        c, sleeps, session = client(f"http://127.0.0.1:{httpd.server_address[1]}")
        with pytest.raises(PushError) as error:
            c.send(publish())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert (error.value.retryable, error.value.status_code) == (False, 307)
    assert (session.requests, sleeps) == (1, [])
    assert receiver.received() == []


def test_connection_refused_is_retryable():
    c, sleeps, session = client(f"http://127.0.0.1:{closed_port()}", backoff=0.5)
    with pytest.raises(PushError) as error:
        c.send(publish())
    assert (error.value.retryable, error.value.status_code) == (True, None)
    assert (session.requests, sleeps) == (3, [0.5, 1.0])


def test_a_silent_receiver_times_out_and_is_retryable():
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        c, sleeps, _ = client(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.2,
                              attempts=2)
        with pytest.raises(PushError) as error:
            c.send(publish())
    assert error.value.retryable and "Timeout" in str(error.value)
    assert sleeps == [0.5]


def test_errors_and_logs_carry_no_record_values(receiver):
    # A handler on the receiver's own logger: CKAN's logging config may stop propagation to root.
    lines: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("demo.credit_receiver")
    logger.addHandler(handler)
    level, disabled = logger.level, logger.disabled
    logger.setLevel(logging.DEBUG)
    logger.disabled = False  # a logging config loaded earlier in the run may have disabled it
    try:
        _push_failures_and_success(receiver)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
    text = "\n".join(lines)
    assert "POST /disclosures 201" in text
    assert ID_NUMBER not in text and "张三" not in text


def _push_failures_and_success(receiver):
    errors = []
    for status in (400, 503, 202):
        receiver.fail_next(3, status=status)
        with pytest.raises(PushError) as error:
            client(receiver.url)[0].send(publish())
        errors.append(error.value)
    with pytest.raises(PushError) as refused:
        client(f"http://127.0.0.1:{closed_port()}")[0].send(publish())
    errors.append(refused.value)
    receiver.fail_next(0)
    client(receiver.url)[0].send(publish())
    for e in errors:
        assert ID_NUMBER not in str(e) and ID_NUMBER not in repr(e.args)
        assert "张三" not in str(e)


def test_retry_delay_grows_and_is_capped():
    assert retry_delay(0) == 0
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(9) == 60 * 256  # 4.3 h
    assert retry_delay(10) == 6 * 3600  # 8.5 h capped
    assert retry_delay(10_000) == 6 * 3600
    assert retry_delay(3, base=10, cap=25) == 25
    with pytest.raises(ValueError):
        retry_delay(-1)


# -- the receiver --------------------------------------------------------------------------------

def test_receiver_survives_a_restart_with_a_data_dir(tmp_path):
    with Receiver(data_dir=tmp_path) as first:
        receipt = client(first.url)[0].send(publish())
    assert (tmp_path / "received.jsonl").read_text(encoding="utf-8").count("\n") == 1
    with Receiver(data_dir=tmp_path) as second:
        assert [m["receipt_id"] for m in second.received()] == [receipt.receipt_id]
        again = client(second.url)[0].send(publish())
        assert (again.duplicate, again.receipt_id) == (True, receipt.receipt_id)
        client(second.url)[0].send(publish(key="license-0002"))
    assert [m["record_key"] for m in Receiver(data_dir=tmp_path).received()] == [
        "license-0001", "license-0002"]


def test_receiver_without_a_data_dir_forgets_on_restart():
    with Receiver() as first:
        client(first.url)[0].send(publish())
    with Receiver() as second:
        assert second.received() == []


def test_control_routes(tmp_path):
    with Receiver(data_dir=tmp_path) as receiver:
        c, sleeps, _ = client(receiver.url)
        c.send(publish())
        answer = requests.post(f"{receiver.url}/_control/fail", timeout=5,
                               json={"count": 1, "status": 503, "retry_after": 1})
        assert answer.json() == {"ok": True}
        assert c.send(publish(key="license-0002")).status_code == 201
        assert sleeps == [1.0]
        requests.post(f"{receiver.url}/_control/reset", timeout=5).raise_for_status()
        assert receiver.received() == []
        assert c.send(publish()).duplicate is False  # the key was forgotten too
    assert len(Receiver(data_dir=tmp_path).received()) == 1


@pytest.mark.parametrize("headers, body, problem", [
    ({}, {"kind": "publish", "record_type": "license", "record_key": "k"}, "Idempotency-Key"),
    ({"Idempotency-Key": "x"}, {"kind": "publish", "record_type": "license"}, "record_key"),
    ({"Idempotency-Key": "x"}, {"kind": "announce", "record_type": "license",
                                "record_key": "k"}, "kind"),
    ({"Idempotency-Key": "x"}, ["not", "an", "object"], "object"),
])
def test_receiver_refuses_malformed_requests(receiver, headers, body, problem):
    answer = requests.post(f"{receiver.url}/disclosures", json=body, headers=headers, timeout=5)
    assert answer.status_code == 400
    assert problem in answer.json()["error"]
    assert receiver.received() == []


def test_cli_refuses_a_non_loopback_host():
    result = subprocess.run(
        [sys.executable, "-m", "demo.credit_receiver", "--host", "0.0.0.0",
         "--port", "0"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
