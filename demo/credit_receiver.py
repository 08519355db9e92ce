"""A stand-in for 信用烟台's disclosure endpoint, served over HTTP on loopback.

It answers as ``ckanext.yantai.disclosure.credit.CreditClient`` expects the credit site to —
idempotency keys recognised, receipts repeated for duplicates — so that tests and the demo push
over real HTTP. It is not a production service: the command line refuses a non-loopback address
unless told otherwise.

Routes:
    ``POST /disclosures``: store a message (201) or recognise its key (200, ``duplicate``).
    ``GET /disclosures``: the messages in arrival order, filtered by ``record_key`` and ``kind``.
    ``GET /health``: ``{"ok": true}``.
    ``POST /_control/fail``: ``{"count", "status", "retry_after"}`` makes the next POSTs fail.
    ``POST /_control/reset``: forget everything (the data file too).

With a token, every route but ``/health`` requires it: the stored messages hold personal data.
With a data directory, messages are appended to ``received.jsonl`` there and read back at start.
The log has the method, path and status of each request, never a record value.

Usage: ``python -m demo.credit_receiver --port 8901 --data-dir DIR [--token T]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hmac
import http.server
import ipaddress
import json
import logging
import os
import socket
import socketserver
import threading
import urllib.parse
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

DATA_FILE = "received.jsonl"
MAX_BODY = 1 << 20  # bytes; a disclosure is a few KB
BODY_FIELDS = ("kind", "record_type", "record_key", "record", "reason", "source", "generation")
KINDS = ("publish", "withdraw")
POLL_INTERVAL = 0.05  # seconds; how soon ``stop`` takes effect (tests start and stop many)


class Receiver:
    """The stand-in receiver; ``start`` serves it in a daemon thread.

    Args:
        host: Address to listen on.
        port: Port to listen on; 0 picks a free one (see ``url``).
        token: Bearer token that requests must carry; None accepts any request.
        data_dir: Directory of ``received.jsonl``; None keeps messages in memory only.

    Raises:
        OSError: The data file cannot be read.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 data_dir: str | os.PathLike[str] | None = None) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.data_file = Path(data_dir) / DATA_FILE if data_dir is not None else None
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._by_key: dict[str, dict[str, Any]] = {}
        self._fail_count = 0
        self._fail_status = 503
        self._fail_retry_after: float | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        if self.data_file is not None:
            self.data_file.parent.mkdir(parents=True, exist_ok=True)
            self._load()

    def _load(self) -> None:
        assert self.data_file is not None
        if not self.data_file.exists():
            return
        with open(self.data_file, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    message = json.loads(line)
                    key = message["idempotency_key"]
                except (ValueError, KeyError, TypeError):
                    # A line cut short by a crash: skip it (its sender will resend).
                    log.warning("%s line %d is not a message, skipped", self.data_file, number)
                    continue
                if key not in self._by_key:
                    self._messages.append(message)
                    self._by_key[key] = message

    def _bind(self) -> _Server:
        if self._server is None:
            self._server = _Server((self.host, self.port), _Handler, self)
            self.port = self._server.server_address[1]
        return self._server

    def start(self) -> Receiver:
        """Listen and serve in a daemon thread.

        Raises:
            OSError: The address cannot be bound.
        """
        if self._thread is None:
            server = self._bind()
            self._serving = True
            self._thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,),
                                            name=f"credit-receiver-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Listen and serve in the calling thread until ``stop`` (from another thread)."""
        server = self._bind()
        self._serving = True
        server.serve_forever(POLL_INTERVAL)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            if self._serving:  # shutdown() would wait forever for a loop that never ran
                self._server.shutdown()
                self._serving = False
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8901`` (the bound port once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def received(self, record_key: str | None = None,
                 kind: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored messages in arrival order, optionally filtered.

        Each is ``{"idempotency_key", "receipt_id", "received_at", **body}``.
        """
        with self._lock:
            messages = list(self._messages)
        return [json.loads(json.dumps(m)) for m in messages
                if (record_key is None or m.get("record_key") == record_key)
                and (kind is None or m.get("kind") == kind)]

    def fail_next(self, count: int, status: int = 503, retry_after: float | None = None) -> None:
        """Answer the next ``count`` POSTs to /disclosures with ``status`` (and Retry-After)."""
        if count < 0 or not 100 <= status <= 599:
            raise ValueError("count must be >= 0 and status an HTTP status")
        with self._lock:
            self._fail_count, self._fail_status = count, status
            self._fail_retry_after = retry_after

    def reset(self) -> None:
        """Forget all messages, pending failures and the data file's contents."""
        with self._lock:
            self._messages.clear()
            self._by_key.clear()
            self._fail_count = 0
            if self.data_file is not None:
                self.data_file.write_bytes(b"")

    def _take_failure(self) -> tuple[int, float | None] | None:
        with self._lock:
            if self._fail_count <= 0:
                return None
            self._fail_count -= 1
            return self._fail_status, self._fail_retry_after

    def _accept(self, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store a message unless its key is known: (the stored message, whether it was known)."""
        with self._lock:
            known = self._by_key.get(key)
            if known is not None:
                return known, True
            message = {"idempotency_key": key, "receipt_id": str(uuid.uuid4()),
                       "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                       **{name: body.get(name) for name in BODY_FIELDS}}
            if self.data_file is not None:
                # Written before it counts as received, so a 201 is never lost by a restart.
                with open(self.data_file, "a", encoding="utf-8") as f:
                    f.write(json.dumps(message, ensure_ascii=False) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            self._messages.append(message)
            self._by_key[key] = message
            return message, False


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler],
                 receiver: Receiver) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.receiver = receiver
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # http.server's own looks the address up in DNS (getfqdn) just to name the server,
        # which can stall for the resolver's timeouts where DNS is slow or absent.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server  # pyright: ignore[reportIncompatibleVariableOverride]  # only _Server serves it
    server_version = "yantai-credit-receiver/1"

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def _route(self) -> str:
        return urllib.parse.urlsplit(self.path).path

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The query is left out too: it may carry a record key.
        log.info("%s %s %s", self.command, self._route, code)

    def log_message(self, format: str, *args: Any) -> None:
        # The base class passes the raw request line and error details here: not logged.
        log.debug("%s %s: request error", self.command, self._route)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 413 for an oversized one."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._json(413, {"error": "body missing a valid length or too large"})
            return None
        return self.rfile.read(length)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        token = self.server.receiver.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode("utf-8"), f"Bearer {token}".encode()):
            return True
        self._json(401, {"error": "missing or wrong bearer token"},
                   {"WWW-Authenticate": "Bearer"})
        return False

    # -- routes --------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        if self._route == "/health":
            self._json(200, {"ok": True})
        elif self._route == "/disclosures":
            if self._authorized():
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                self._json(200, self.server.receiver.received(
                    record_key=query.get("record_key", [None])[0],
                    kind=query.get("kind", [None])[0]))
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        body = self._read_body()  # read first, so that an early answer does not reset the client
        if body is None:
            return
        if self._route == "/disclosures":
            self._post_disclosure(body)
        elif self._route in ("/_control/fail", "/_control/reset"):
            if self._authorized():
                self._control(body)
        else:
            self._json(404, {"error": "not found"})

    def _post_disclosure(self, raw: bytes) -> None:
        receiver = self.server.receiver
        failure = receiver._take_failure()
        if failure is not None:
            status, retry_after = failure
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            self._json(status, {"error": "injected failure"}, headers)
            return
        if not self._authorized():
            return
        key = self.headers.get("Idempotency-Key", "").strip()
        if not key:
            self._json(400, {"error": "Idempotency-Key header missing"})
            return
        body, problem = _parse_disclosure(raw)
        if problem is not None:
            self._json(400, {"error": problem})
            return
        message, duplicate = receiver._accept(key, body)
        self._json(200 if duplicate else 201,
                   {"receipt_id": message["receipt_id"], "received_at": message["received_at"],
                    "duplicate": duplicate})

    def _control(self, raw: bytes) -> None:
        receiver = self.server.receiver
        if self._route == "/_control/reset":
            receiver.reset()
            self._json(200, {"ok": True})
            return
        try:
            data = json.loads(raw or b"{}")
            receiver.fail_next(int(data.get("count", 1)), int(data.get("status", 503)),
                               None if data.get("retry_after") is None
                               else float(data["retry_after"]))
        except (ValueError, TypeError, AttributeError):
            self._json(400, {"error": 'expected {"count": n, "status": s, "retry_after": t}'})
            return
        self._json(200, {"ok": True})


def _parse_disclosure(raw: bytes) -> tuple[dict[str, Any], str | None]:
    """The body of a disclosure, or why it is refused (the reason names fields, not values)."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}, "body is not UTF-8 JSON"
    if not isinstance(body, dict):
        return {}, "body is not a JSON object"
    missing = [name for name in ("kind", "record_type", "record_key")
               if not isinstance(body.get(name), str) or not body[name]]
    if missing:
        return {}, f"missing: {', '.join(missing)}"
    if body["kind"] not in KINDS:
        return {}, f"kind must be one of {', '.join(KINDS)}"
    if body.get("record") is not None and not isinstance(body["record"], dict):
        return {}, "record is not a JSON object"
    return body, None


def loopback(host: str) -> bool:
    """Whether every address that ``host`` stands for is a loopback address."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m demo.credit_receiver",
        description="Stand-in for 信用烟台's disclosure endpoint (tests and the demo only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8901)
    parser.add_argument("--data-dir", help="keep received messages in DIR/received.jsonl")
    parser.add_argument("--token", help="bearer token that requests must carry")
    parser.add_argument("--allow-remote", action="store_true",
                        help="listen on a non-loopback address (it is not a production service)")
    args = parser.parse_args(argv)
    if not args.allow_remote and not loopback(args.host):
        parser.error(f"{args.host} is not a loopback address; this stand-in serves loopback "
                     "only unless --allow-remote is given")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    receiver = Receiver(args.host, args.port, token=args.token, data_dir=args.data_dir)
    receiver._bind()
    log.info("credit receiver listening on %s (%d messages kept)", receiver.url,
             len(receiver.received()))
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
