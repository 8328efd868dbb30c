"""A payment partner on loopback: a real HTTP server speaking ``openapi.yaml``, its state in SQLite.

Run it with ``manage.py payout_simulator``. Everything it knows (accounts, disbursements, receipts per
idempotency key, queued callbacks, the faults switched on, nonces) is in one SQLite file, so a restart
forgets nothing: a disbursement accepted before a restart settles and calls back after it.

Behaviour:
- account inquiry answers from the accounts registered through ``POST /_sim/accounts``;
- a disbursement is ``accepted`` at once and settles ``settle_seconds`` later: ``failed`` with
  ``account_closed`` when the account number ends in 0000 or is registered closed, else ``paid``
  (any other account number is paid, so a benchmark needs no registration);
- every create request is counted per ``Idempotency-Key`` (``GET /_sim/stats``): a repeat returns
  the first answer and never creates a second disbursement; a second key for a known reference too;
- the bulk create (``POST /v1/disbursement-batches``) records up to 1000 items in one transaction, each
  deduplicated and counted on its own key exactly like a single create; the bulk status inquiry
  (``POST /v1/disbursement-inquiries``) answers up to 1000 references;
- callbacks go to the disbursement's ``callback_url``, signed with the callback secret, from a
  background thread, retried with backoff until a 2xx (at most ``CALLBACK_MAX_ATTEMPTS``).

Faults (``POST /_sim/faults`` with a JSON object, or the command's flags; ``DELETE`` resets):
``timeout_rate`` (answer only after ``timeout_seconds``; a create is recorded first, so only the answer
is lost), ``error_rate`` (HTTP 500; for a create, half before and half after recording it),
``slow_seconds`` (every answer late), ``duplicate_callbacks`` (extra copies of each callback),
``callback_delay_seconds`` (late callbacks), ``out_of_order_callbacks`` (a stale ``accepted``
callback after the final one), ``lost_callback_rate`` (callbacks never sent), ``fail_rate``
(accepted, then failed with ``rejected_by_bank``) and ``statement_discrepancies`` (the statement
shows one amount changed, one failure as paid, one payout missing and one unknown reference).

The ``/_sim/`` endpoints are unauthenticated controls for tests and demos: bind to loopback.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import logging
import random
import re
import secrets
import sqlite3
import threading
import time
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from disbursement.gateway import protocol
from prakerja.masking import mask_identifier

logger = logging.getLogger(__name__)

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
MAX_SKEW_SECONDS = 300
CALLBACK_MAX_ATTEMPTS = 12
CALLBACK_TIMEOUT_SECONDS = 5.0
CALLBACK_WORKERS = 4
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
ACCOUNT_PATTERN = re.compile(r"^[0-9]{6,20}$")
CLOSED_SUFFIX = "0000"

DEFAULT_FAULTS = {
    "timeout_rate": 0.0,
    "timeout_seconds": 15.0,
    "error_rate": 0.0,
    "slow_seconds": 0.0,
    "duplicate_callbacks": 0,
    "callback_delay_seconds": 0.0,
    "out_of_order_callbacks": False,
    "lost_callback_rate": 0.0,
    "fail_rate": 0.0,
    "settle_seconds": 0.5,
    "statement_discrepancies": False,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, callback_secret TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    channel TEXT NOT NULL, account_number TEXT NOT NULL, holder_name TEXT NOT NULL, nik TEXT NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (channel, account_number)
);
CREATE TABLE IF NOT EXISTS disbursements (
    reference TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, request_hash TEXT NOT NULL,
    key_id TEXT NOT NULL, partner_id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
    account_number TEXT NOT NULL, amount INTEGER NOT NULL, description TEXT NOT NULL,
    callback_url TEXT NOT NULL, status TEXT NOT NULL, failure_code TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL, created_at REAL NOT NULL, settle_at REAL NOT NULL, completed_at REAL
);
CREATE INDEX IF NOT EXISTS disbursements_settle ON disbursements (status, settle_at);
CREATE TABLE IF NOT EXISTS receipts (idempotency_key TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS callbacks (
    id INTEGER PRIMARY KEY, reference TEXT NOT NULL, event_id TEXT NOT NULL, status TEXT NOT NULL,
    failure_code TEXT NOT NULL, occurred_at INTEGER NOT NULL, due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, delivered_at REAL, given_up INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks (delivered_at, given_up, due_at);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS config (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SimulatorState:
    """The SQLite file behind the simulator. One connection, one lock: simple and fast enough."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def execute(self, sql: str, params=()) -> sqlite3.Cursor:
        with self.lock:
            return self.db.execute(sql, params)

    def transaction(self):
        return _Transaction(self)

    # --- configuration ----------------------------------------------------------------------

    def faults(self) -> dict:
        row = self.execute("SELECT value FROM config WHERE name = 'faults'").fetchone()
        faults = dict(DEFAULT_FAULTS)
        if row:
            faults.update(json.loads(row["value"]))
        return faults

    def faults_update(self, changes: dict) -> dict:
        faults = self.faults()
        for name, value in changes.items():
            if name not in DEFAULT_FAULTS:
                raise ValueError(f"unknown fault {name!r}")
            kind = type(DEFAULT_FAULTS[name])
            if kind is bool:
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            elif name.endswith("_rate") and value > 1:
                raise ValueError(f"{name} must be between 0 and 1")
            faults[name] = kind(value)
        self.execute(
            "INSERT INTO config (name, value) VALUES ('faults', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (json.dumps(faults),),
        )
        return faults

    def faults_reset(self) -> dict:
        self.execute("DELETE FROM config WHERE name = 'faults'")
        return self.faults()

    def credential_set(self, *, key_id: str, secret: str, callback_secret: str) -> None:
        self.execute(
            "INSERT INTO credentials (key_id, secret, callback_secret) VALUES (?, ?, ?) "
            "ON CONFLICT (key_id) DO UPDATE SET secret = excluded.secret, "
            "callback_secret = excluded.callback_secret",
            (key_id, secret, callback_secret),
        )

    def credential(self, key_id: str) -> sqlite3.Row | None:
        return self.execute("SELECT * FROM credentials WHERE key_id = ?", (key_id,)).fetchone()

    def account_set(
        self, *, channel: str, account_number: str, holder_name: str, nik: str, closed: bool
    ) -> None:
        self.execute(
            "INSERT INTO accounts (channel, account_number, holder_name, nik, closed) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (channel, account_number) DO UPDATE SET holder_name = excluded.holder_name, "
            "nik = excluded.nik, closed = excluded.closed",
            (channel, account_number, holder_name, nik, int(closed)),
        )


class _Transaction:
    def __init__(self, state: SimulatorState):
        self.state = state

    def __enter__(self) -> sqlite3.Connection:
        self.state.lock.acquire()
        self.state.db.execute("BEGIN IMMEDIATE")
        return self.state.db

    def __exit__(self, exc_type, exc, tb):
        try:
            self.state.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.state.lock.release()


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="seconds")


def _public(row: sqlite3.Row) -> dict:
    return {
        "reference": row["reference"],
        "partner_id": row["partner_id"],
        "status": row["status"],
        "failure_code": row["failure_code"],
        "amount": row["amount"],
        "channel": row["channel"],
        "created_at": _iso(row["created_at"]),
        "completed_at": _iso(row["completed_at"]),
    }


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str = ""):
        self.status = status
        self.code = code
        self.message = message or code.replace("_", " ")
        super().__init__(code)


class PayoutSimulator:
    """The server: ``serve_forever()`` answers HTTP; two background threads settle and call back."""

    def __init__(self, *, state_path: str | Path, host: str = "127.0.0.1", port: int = 8765):
        self.state = SimulatorState(state_path)
        self.random = random.Random()
        self.stopping = threading.Event()
        handler = type("Handler", (_Handler,), {"simulator": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.http = requests.Session()
        self._threads = [
            threading.Thread(target=self._settle_loop, name="settle", daemon=True),
            threading.Thread(target=self._callback_loop, name="callbacks", daemon=True),
        ]

    def serve_forever(self) -> None:
        for thread in self._threads:
            thread.start()
        try:
            self.server.serve_forever(poll_interval=0.2)
        finally:
            self.stopping.set()
            self.server.server_close()

    def shutdown(self) -> None:
        self.stopping.set()
        self.server.shutdown()

    # --- the partner API -----------------------------------------------------------------------

    def authenticate(self, *, method: str, path: str, headers, body: bytes) -> str:
        scheme = protocol.SCHEME
        key_id = headers.get(scheme.key_id_header, "")
        credential = self.state.credential(key_id) if key_id else None
        if not key_id:
            raise ApiError(401, "auth_missing")
        if credential is None:
            raise ApiError(401, "key_unknown")
        problem = scheme.check(
            secret=credential["secret"],
            headers=headers,
            method=method,
            path=path,
            body=body,
            max_skew_seconds=MAX_SKEW_SECONDS,
        )
        if problem:
            raise ApiError(401, problem)
        nonce = headers.get(scheme.nonce_header)
        inserted = self.state.execute(
            "INSERT OR IGNORE INTO nonces (nonce, seen_at) VALUES (?, ?)", (nonce, time.time())
        ).rowcount
        if not inserted:
            raise ApiError(401, "nonce_reused")
        return key_id

    def inquiry(self, payload: dict) -> dict:
        channel, account_number, nik = (payload.get(k) for k in ("channel", "account_number", "nik"))
        if (
            channel not in protocol.CHANNELS
            or not isinstance(account_number, str)
            or not isinstance(nik, str)
        ):
            raise ApiError(400, "invalid_request", "channel, account_number and nik are required")
        row = self.state.execute(
            "SELECT * FROM accounts WHERE channel = ? AND account_number = ?", (channel, account_number)
        ).fetchone()
        if row is None:
            return {"exists": False, "holder_name": "", "nik_match": False}
        return {"exists": True, "holder_name": row["holder_name"], "nik_match": row["nik"] == nik}

    def create(self, *, key_id: str, idempotency_key: str, payload: dict, faults: dict) -> tuple[int, dict]:
        item = self._create_check(idempotency_key, payload)
        with self.state.transaction() as db:
            return self._create_in(db, key_id=key_id, item=item, faults=faults, now=time.time())

    def create_bulk(self, *, key_id: str, payload: dict, faults: dict) -> dict:
        """Many disbursements in one request and one transaction; each item is deduplicated on its own
        ``idempotency_key`` exactly like a single create, and answered on its own (201, 200 or an error)."""
        items = payload.get("disbursements")
        if not isinstance(items, list) or not 1 <= len(items) <= protocol.BULK_MAX_ITEMS:
            raise ApiError(
                400, "invalid_request", f"disbursements must be a list of 1-{protocol.BULK_MAX_ITEMS} items"
            )
        checked: list[dict | ApiError] = []
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise ApiError(400, "invalid_request", "each disbursement must be a JSON object")
                checked.append(self._create_check(item.get("idempotency_key") or "", item))
            except ApiError as exc:
                checked.append(exc)
        results = []
        now = time.time()
        with self.state.transaction() as db:
            for item, raw in zip(checked, items, strict=True):
                key = raw.get("idempotency_key") if isinstance(raw, dict) else None
                key = key if isinstance(key, str) else ""
                if isinstance(item, ApiError):
                    results.append({"idempotency_key": key, "status_code": item.status,
                                    "error": {"code": item.code, "message": item.message}})  # fmt: skip
                    continue
                try:
                    code, data = self._create_in(db, key_id=key_id, item=item, faults=faults, now=now)
                except ApiError as exc:
                    results.append({"idempotency_key": key, "status_code": exc.status,
                                    "error": {"code": exc.code, "message": exc.message}})  # fmt: skip
                else:
                    results.append({"idempotency_key": key, "status_code": code, "disbursement": data})
        return {"results": results}

    def _create_check(self, idempotency_key: str, payload: dict) -> dict:
        if not idempotency_key:
            raise ApiError(400, "idempotency_key_required")
        if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
            raise ApiError(400, "invalid_request", "Idempotency-Key must be 1-100 of A-Z a-z 0-9 _ . : -")
        reference = payload.get("reference")
        channel = payload.get("channel")
        account_number = payload.get("account_number")
        amount = payload.get("amount")
        callback_url = payload.get("callback_url") or ""
        if (
            not isinstance(reference, str)
            or not 1 <= len(reference) <= 64
            or channel not in protocol.CHANNELS
            or not isinstance(account_number, str)
            or not ACCOUNT_PATTERN.match(account_number)
            or not isinstance(amount, int)
            or isinstance(amount, bool)
            or amount < 1
            or not isinstance(callback_url, str)
        ):
            raise ApiError(400, "invalid_request", "reference, channel, account_number, amount are required")
        request_hash = hashlib.sha256(
            json.dumps([reference, channel, account_number, amount], separators=(",", ":")).encode()
        ).hexdigest()
        return {
            "idempotency_key": idempotency_key, "reference": reference, "channel": channel,
            "account_number": account_number, "amount": amount, "callback_url": callback_url,
            "description": str(payload.get("description") or "")[:100], "request_hash": request_hash,
        }  # fmt: skip

    def _create_in(self, db, *, key_id: str, item: dict, faults: dict, now: float) -> tuple[int, dict]:
        """Record one create request (inside the caller's transaction): 201 new, 200 a repeat."""
        idempotency_key, reference = item["idempotency_key"], item["reference"]
        channel, account_number, amount = item["channel"], item["account_number"], item["amount"]
        db.execute(
            "INSERT INTO receipts (idempotency_key, count) VALUES (?, 1) "
            "ON CONFLICT (idempotency_key) DO UPDATE SET count = count + 1",
            (idempotency_key,),
        )
        existing = db.execute(
            "SELECT * FROM disbursements WHERE idempotency_key = ?", (idempotency_key,)
        ).fetchone()
        if existing is not None:
            if existing["request_hash"] != item["request_hash"]:
                raise ApiError(422, "idempotency_key_reused", "this key was used for another disbursement")
            return 200, _public(existing)
        existing = db.execute("SELECT * FROM disbursements WHERE reference = ?", (reference,)).fetchone()
        if existing is not None:
            return 200, _public(existing)
        account = db.execute(
            "SELECT closed FROM accounts WHERE channel = ? AND account_number = ?",
            (channel, account_number),
        ).fetchone()
        if account_number.endswith(CLOSED_SUFFIX) or (account is not None and account["closed"]):
            outcome = "failed:account_closed"
        elif faults["fail_rate"] and self.random.random() < faults["fail_rate"]:
            outcome = "failed:rejected_by_bank"
        else:
            outcome = protocol.PAID
        partner_id = f"SIM{secrets.token_hex(8).upper()}"
        db.execute(
            "INSERT INTO disbursements (reference, idempotency_key, request_hash, key_id, partner_id, channel, "
            "account_number, amount, description, callback_url, status, outcome, created_at, settle_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reference, idempotency_key, item["request_hash"], key_id, partner_id, channel, account_number,
                amount, item["description"], item["callback_url"], protocol.ACCEPTED,
                outcome, now, now + faults["settle_seconds"],
            ),
        )  # fmt: skip
        row = db.execute("SELECT * FROM disbursements WHERE reference = ?", (reference,)).fetchone()
        logger.debug(
            "payout simulator: accepted %s to %s %s", reference, channel, mask_identifier(account_number)
        )
        return 201, _public(row)

    def status(self, reference: str) -> dict:
        row = self.state.execute("SELECT * FROM disbursements WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise ApiError(404, "not_found", "no disbursement with this reference")
        return _public(row)

    def status_bulk(self, payload: dict) -> dict:
        """Status inquiry for many references at once; unknown ones are listed in ``not_found``."""
        references = payload.get("references")
        if (
            not isinstance(references, list)
            or not 1 <= len(references) <= protocol.BULK_MAX_ITEMS
            or not all(isinstance(r, str) and 1 <= len(r) <= 64 for r in references)
        ):
            raise ApiError(
                400, "invalid_request", f"references must be a list of 1-{protocol.BULK_MAX_ITEMS} references"
            )
        wanted = list(dict.fromkeys(references))
        marks = ",".join("?" * len(wanted))
        rows = self.state.execute(
            f"SELECT * FROM disbursements WHERE reference IN ({marks})",  # noqa: S608 - placeholders only
            wanted,
        ).fetchall()
        found = {row["reference"]: _public(row) for row in rows}
        return {
            "disbursements": [found[r] for r in wanted if r in found],
            "not_found": [r for r in wanted if r not in found],
        }

    def statement(self, day_text: str, faults: dict) -> bytes:
        try:
            day = datetime.date.fromisoformat(day_text)
        except ValueError:
            raise ApiError(400, "invalid_request", "the day must be YYYY-MM-DD") from None
        start = datetime.datetime.combine(day, datetime.time(), JAKARTA).timestamp()
        end = start + 86400
        rows = [
            dict(row)
            for row in self.state.execute(
                "SELECT * FROM disbursements WHERE created_at >= ? AND created_at < ? ORDER BY created_at, reference",
                (start, end),
            )
        ]
        if faults["statement_discrepancies"]:
            rows = _with_discrepancies(rows, day)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(protocol.STATEMENT_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    row["reference"], row["partner_id"], row["channel"], row["account_number"], row["amount"],
                    row["status"], row["failure_code"], _iso(row["created_at"]), _iso(row["completed_at"]) or "",
                ]
            )  # fmt: skip
        return out.getvalue().encode()

    # --- controls ------------------------------------------------------------------------------

    def stats(self) -> dict:
        db = self.state
        receipts = db.execute(
            "SELECT COUNT(*) AS keys, COALESCE(SUM(count), 0) AS total, COALESCE(MAX(count), 0) AS most "
            "FROM receipts"
        ).fetchone()
        by_status = {
            row["status"]: row["n"]
            for row in db.execute("SELECT status, COUNT(*) AS n FROM disbursements GROUP BY status")
        }
        callbacks = db.execute(
            "SELECT COUNT(*) AS total, "
            "SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered, "
            "SUM(given_up) AS given_up FROM callbacks"
        ).fetchone()
        disbursed = db.execute(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT idempotency_key) AS keys, COALESCE(SUM(amount), 0) AS amount "
            "FROM disbursements"
        ).fetchone()
        return {
            "disbursements": disbursed["n"],
            "disbursement_keys": disbursed["keys"],
            "amount": disbursed["amount"],
            "by_status": by_status,
            "receipts": receipts["total"],
            "receipt_keys": receipts["keys"],
            "max_receipts_per_key": receipts["most"],
            "callbacks_queued": callbacks["total"] or 0,
            "callbacks_delivered": callbacks["delivered"] or 0,
            "callbacks_given_up": callbacks["given_up"] or 0,
            "faults": db.faults(),
        }

    def disbursements(self, reference: str | None) -> list[dict]:
        sql = "SELECT * FROM disbursements"
        params: tuple = ()
        if reference:
            sql += " WHERE reference = ?"
            params = (reference,)
        return [
            {
                **_public(row),
                "idempotency_key": row["idempotency_key"],
                "account_number": row["account_number"],
            }
            for row in self.state.execute(sql + " ORDER BY created_at, reference", params)
        ]

    # --- background work -----------------------------------------------------------------------

    def settle_due(self, *, now: float | None = None, limit: int = 2000) -> int:
        """Move accepted disbursements whose time has come to their final state and queue callbacks."""
        now = time.time() if now is None else now
        faults = self.state.faults()
        with self.state.transaction() as db:
            rows = db.execute(
                "SELECT * FROM disbursements WHERE status = ? AND settle_at <= ? ORDER BY settle_at LIMIT ?",
                (protocol.ACCEPTED, now, limit),
            ).fetchall()
            for row in rows:
                status, _, failure_code = row["outcome"].partition(":")
                db.execute(
                    "UPDATE disbursements SET status = ?, failure_code = ?, completed_at = ? WHERE reference = ?",
                    (status, failure_code, now, row["reference"]),
                )
                if not row["callback_url"]:
                    continue
                if faults["lost_callback_rate"] and self.random.random() < faults["lost_callback_rate"]:
                    continue
                due = now + faults["callback_delay_seconds"]
                event_id = f"evt_{secrets.token_hex(10)}"
                for _copy in range(1 + int(faults["duplicate_callbacks"])):
                    db.execute(
                        "INSERT INTO callbacks (reference, event_id, status, failure_code, occurred_at, due_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (row["reference"], event_id, status, failure_code, int(now), due),
                    )
                if faults["out_of_order_callbacks"]:
                    # The "accepted" event, sent after the final one it preceded.
                    db.execute(
                        "INSERT INTO callbacks (reference, event_id, status, failure_code, occurred_at, due_at) "
                        "VALUES (?, ?, ?, '', ?, ?)",
                        (row["reference"], f"evt_{secrets.token_hex(10)}", protocol.ACCEPTED,
                         int(row["created_at"]), due + 0.5),
                    )  # fmt: skip
        return len(rows)

    def _settle_loop(self) -> None:
        purged_at = 0.0
        while not self.stopping.is_set():
            try:
                if time.monotonic() - purged_at > 60:
                    self.nonces_purge()
                    purged_at = time.monotonic()
                if self.settle_due() == 0:
                    self.stopping.wait(0.1)
            except Exception:  # keep settling whatever one round did
                logger.exception("payout simulator: settling failed")
                self.stopping.wait(1.0)

    def _callback_loop(self) -> None:
        with ThreadPoolExecutor(max_workers=CALLBACK_WORKERS, thread_name_prefix="callback") as pool:
            while not self.stopping.is_set():
                try:
                    claimed = self._callbacks_claim(limit=200)
                    if not claimed:
                        self.stopping.wait(0.1)
                        continue
                    list(pool.map(self._callback_deliver, claimed))
                except Exception:
                    logger.exception("payout simulator: delivering callbacks failed")
                    self.stopping.wait(1.0)

    def _callbacks_claim(self, *, limit: int) -> list[dict]:
        now = time.time()
        with self.state.transaction() as db:
            rows = db.execute(
                "SELECT c.*, d.callback_url, d.partner_id, d.amount, d.key_id FROM callbacks c "
                "JOIN disbursements d ON d.reference = c.reference "
                "WHERE c.delivered_at IS NULL AND c.given_up = 0 AND c.due_at <= ? ORDER BY c.due_at, c.id LIMIT ?",
                (now, limit),
            ).fetchall()
            # A lease: a claimed callback is not picked again while this round sends it.
            db.executemany(
                "UPDATE callbacks SET due_at = ? WHERE id = ?", [(now + 60, row["id"]) for row in rows]
            )
        return [dict(row) for row in rows]

    def _callback_deliver(self, row: dict) -> None:
        credential = self.state.credential(row["key_id"])
        if credential is None:
            self.state.execute("UPDATE callbacks SET given_up = 1 WHERE id = ?", (row["id"],))
            return
        body = protocol.callback_body(
            event_id=row["event_id"], reference=row["reference"], partner_id=row["partner_id"],
            status=row["status"], amount=row["amount"], failure_code=row["failure_code"],
            occurred_at=row["occurred_at"],
        )  # fmt: skip
        headers = protocol.callback_headers(
            key_id=row["key_id"], secret=credential["callback_secret"], body=body
        )
        try:
            response = self.http.post(
                row["callback_url"], data=body, headers=headers, timeout=CALLBACK_TIMEOUT_SECONDS
            )
            delivered = 200 <= response.status_code < 300
        except requests.RequestException:
            delivered = False
        attempts = row["attempts"] + 1
        if delivered:
            self.state.execute(
                "UPDATE callbacks SET delivered_at = ?, attempts = ? WHERE id = ?",
                (time.time(), attempts, row["id"]),
            )
        elif attempts >= CALLBACK_MAX_ATTEMPTS:
            self.state.execute(
                "UPDATE callbacks SET given_up = 1, attempts = ? WHERE id = ?", (attempts, row["id"])
            )
        else:
            self.state.execute(
                "UPDATE callbacks SET attempts = ?, due_at = ? WHERE id = ?",
                (attempts, time.time() + min(2**attempts, 120), row["id"]),
            )

    def nonces_purge(self) -> None:
        self.state.execute("DELETE FROM nonces WHERE seen_at < ?", (time.time() - 2 * MAX_SKEW_SECONDS,))


def _with_discrepancies(rows: list[dict], day: datetime.date) -> list[dict]:
    """One of each mismatch reconciliation must find, where the day's rows allow it."""
    rows = [dict(row) for row in rows]
    paid = [row for row in rows if row["status"] == protocol.PAID]
    failed = [row for row in rows if row["status"] == protocol.FAILED]
    if paid:
        paid[0]["amount"] += 1000  # amount differs
    if failed:
        failed[0].update(status=protocol.PAID, failure_code="")  # paid there, failed here
    if len(paid) > 1:
        rows.remove(paid[-1])  # missing from the statement
    noon = datetime.datetime.combine(day, datetime.time(12), JAKARTA).timestamp()
    rows.append(
        {
            "reference": f"SIM-UNKNOWN-{day:%Y%m%d}", "partner_id": "SIM000000UNKNOWN", "channel": "bni",
            "account_number": "1234567890", "amount": 50000, "status": protocol.PAID, "failure_code": "",
            "created_at": noon, "completed_at": noon,
        }
    )  # fmt: skip
    return rows


class _Handler(BaseHTTPRequestHandler):
    simulator: PayoutSimulator
    protocol_version = "HTTP/1.1"
    server_version = "PrakerjaPayoutSimulator/1.0"

    def log_message(self, format, *args):  # the default writes every request to stderr
        logger.debug("payout simulator: " + format, *args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        try:
            if split.path.startswith("/_sim/"):
                self._control(method, split.path, parse_qs(split.query), body)
            elif split.path.startswith(protocol.API_PREFIX + "/"):
                self._api(method, split.path, body)
            else:
                raise ApiError(404, "not_found")
        except ApiError as exc:
            self._json(exc.status, {"error": {"code": exc.code, "message": exc.message}})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            logger.exception("payout simulator: %s %s failed", method, split.path)
            self._json(500, {"error": {"code": "internal_error", "message": "internal error"}})

    def _api(self, method: str, path: str, body: bytes) -> None:
        sim = self.simulator
        faults = sim.state.faults()
        key_id = sim.authenticate(method=method, path=self.path, headers=self.headers, body=body)
        if faults["slow_seconds"]:
            time.sleep(faults["slow_seconds"])
        bulk = method == "POST" and path == f"{protocol.API_PREFIX}/disbursement-batches"
        money = bulk or (method == "POST" and path == f"{protocol.API_PREFIX}/disbursements")
        timeout = faults["timeout_rate"] and sim.random.random() < faults["timeout_rate"]
        error = faults["error_rate"] and sim.random.random() < faults["error_rate"]
        error_after = error and money and sim.random.random() < 0.5
        if error and not error_after:
            raise ApiError(500, "internal_error", "simulated failure")
        if timeout and not money:
            time.sleep(faults["timeout_seconds"])
        payload = {}
        if method == "POST":
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                raise ApiError(400, "invalid_request", "the body must be JSON") from None
            if not isinstance(payload, dict):
                raise ApiError(400, "invalid_request", "the body must be a JSON object")
        if method == "POST" and path == f"{protocol.API_PREFIX}/account-inquiries":
            self._json(200, sim.inquiry(payload))
        elif method == "POST" and path == f"{protocol.API_PREFIX}/disbursement-inquiries":
            self._json(200, sim.status_bulk(payload))
        elif bulk:
            data = sim.create_bulk(key_id=key_id, payload=payload, faults=faults)
            if timeout:
                time.sleep(faults["timeout_seconds"])  # recorded, but the answer comes too late
            if error_after:
                raise ApiError(500, "internal_error", "simulated failure after recording")
            self._json(200, data)
        elif money:
            status, data = sim.create(
                key_id=key_id,
                idempotency_key=self.headers.get(protocol.HEADER_IDEMPOTENCY_KEY, ""),
                payload=payload,
                faults=faults,
            )
            if timeout:
                time.sleep(faults["timeout_seconds"])  # recorded, but the answer comes too late
            if error_after:
                raise ApiError(500, "internal_error", "simulated failure after recording")
            self._json(status, data, {protocol.HEADER_REPLAYED: "true"} if status == 200 else None)
        elif method == "GET" and path.startswith(f"{protocol.API_PREFIX}/disbursements/"):
            self._json(200, sim.status(unquote(path.rsplit("/", 1)[1])))
        elif method == "GET" and path.startswith(f"{protocol.API_PREFIX}/statements/"):
            self._send(200, sim.statement(path.rsplit("/", 1)[1], faults), "text/csv; charset=utf-8")
        else:
            raise ApiError(404, "not_found")

    def _control(self, method: str, path: str, query: dict, body: bytes) -> None:
        sim = self.simulator
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            raise ApiError(400, "invalid_request", "the body must be JSON") from None
        if path == "/_sim/health":
            self._json(200, {"ok": True})
        elif path == "/_sim/stats" and method == "GET":
            self._json(200, sim.stats())
        elif path == "/_sim/disbursements" and method == "GET":
            self._json(200, sim.disbursements((query.get("reference") or [None])[0]))
        elif path == "/_sim/faults" and method == "GET":
            self._json(200, sim.state.faults())
        elif path == "/_sim/faults" and method == "POST":
            if not isinstance(payload, dict):
                raise ApiError(400, "invalid_request", "send a JSON object of faults")
            try:
                self._json(200, sim.state.faults_update(payload))
            except ValueError as exc:
                raise ApiError(400, "invalid_request", str(exc)) from None
        elif path == "/_sim/faults" and method == "DELETE":
            self._json(200, sim.state.faults_reset())
        elif path == "/_sim/accounts" and method == "POST":
            accounts = payload if isinstance(payload, list) else [payload]
            for account in accounts:
                if (
                    not isinstance(account, dict)
                    or account.get("channel") not in protocol.CHANNELS
                    or not ACCOUNT_PATTERN.match(str(account.get("account_number", "")))
                ):
                    raise ApiError(400, "invalid_request", "channel and account_number (digits) are required")
                sim.state.account_set(
                    channel=account["channel"],
                    account_number=str(account["account_number"]),
                    holder_name=str(account.get("holder_name", "")),
                    nik=str(account.get("nik", "")),
                    closed=bool(account.get("closed", False)),
                )
            self._json(200, {"accounts": len(accounts)})
        elif path == "/_sim/credentials" and method == "POST":
            if not all(
                isinstance(payload.get(k), str) and payload[k]
                for k in ("key_id", "secret", "callback_secret")
            ):
                raise ApiError(400, "invalid_request", "key_id, secret and callback_secret are required")
            sim.state.credential_set(
                key_id=payload["key_id"], secret=payload["secret"], callback_secret=payload["callback_secret"]
            )
            self._json(200, {"key_id": payload["key_id"]})
        else:
            raise ApiError(404, "not_found")

    def _json(self, status: int, data, extra_headers: dict | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", extra_headers)

    def _send(self, status: int, body: bytes, content_type: str, extra_headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
