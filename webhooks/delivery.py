"""Sign and send delivery attempts; the life of a delivery.

State of a delivery (see models.Delivery.Status):
  QUEUED --claim--> SENDING --2xx--> SUCCEEDED
                            --410, other 4xx, 3xx, refused target, schedule exhausted--> FAILED
                            --429/5xx/timeout/connection error--> retry at next_attempt_at
                            --over the rate limit--> WAITING (no attempt; see webhooks.backlog)
  QUEUED --claim, while its endpoint has a backlog--> WAITING
  WAITING --the endpoint's drain, oldest first, a window's budget at a time--> SENDING
A wait of at most recording.COUNTDOWN_MAX_SECONDS goes back to QUEUED with a Celery
countdown; a longer one goes to PENDING, and webhooks.poller (send_due_deliveries) queues it
when `next_attempt_at` comes: due times live in PostgreSQL, never only in the broker, whose
visibility timeout would redeliver them.

Who does what: webhooks.sender (a worker's loop) claims queued deliveries in batches
(webhooks.claims), sends them on threads with `exchange` (this module: sign, POST under a
hard deadline, no database access) and records the outcomes in batches
(webhooks.recording); `send` is the same path for one delivery, and the drain of a
rate-limited backlog (webhooks.drain) sends with `exchange` too, in order.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from datetime import UTC, datetime

import requests
import urllib3
from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from urllib3.util.timeout import Timeout

from webhooks import claims, recording
from webhooks.deadline import Deadline, install
from webhooks.models import Delivery
from webhooks.recording import MAX_ERROR_LENGTH, Attempted, Outcome
from webhooks.targets import TargetRefused, guarded_session

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 24 * 3600
USER_AGENT = "Acme-Webhooks/1.0"

_session: requests.Session | None = None
_session_lock = threading.Lock()


def session() -> requests.Session:
    """One pooled, guarded session per process (created after the worker forks), shared by
    its sending threads (webhooks.sender): it keeps up to WEBHOOKS_SENDER_THREADS
    connections alive per receiver host, so a busy endpoint is not reconnected to for each
    delivery."""
    global _session
    with _session_lock:
        if _session is None:
            pool_size = max(4, settings.WEBHOOKS_SENDER_THREADS)
            _session = install(guarded_session(pool_maxsize=pool_size))
        return _session


def body_of(payload: dict) -> str:
    """The exact text that is signed and sent (key order: type, timestamp, data)."""
    ordered = {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


def signed_headers(*, secrets: list[str], msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers, signed by the `standardwebhooks` package with each secret
    (space-separated signatures: a verifier accepts the message if any one matches)."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets),
    }


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - timezone.now()).total_seconds()
    return min(max(seconds, 1.0), MAX_RETRY_AFTER_SECONDS)


def post(*, url: str, body: str, headers: dict[str, str]) -> Outcome:
    """One POST, no redirects, over in WEBHOOKS_TOTAL_TIMEOUT_SECONDS at most (connect, send,
    headers and body together: see webhooks.deadline); the body is never read beyond what
    keep-alive needs. An attempt cut off at the deadline counts as timed out, whatever the
    receiver had sent by then."""
    total = settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS
    # Per-operation timeouts inside the deadline; the deadline ends what they do not.
    timeout = Timeout(
        connect=min(settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS, total), read=total, total=total
    )
    started = time.perf_counter()

    def elapsed_ms() -> int:
        return round((time.perf_counter() - started) * 1000)

    with Deadline(total) as deadline:
        outcome = _exchange(url=url, body=body, headers=headers, timeout=timeout)
    if deadline.expired:
        return Outcome(duration_ms=elapsed_ms(), error="Timed out")
    if outcome.duration_ms is None:
        outcome.duration_ms = elapsed_ms()
    return outcome


def _exchange(*, url: str, body: str, headers: dict[str, str], timeout: Timeout) -> Outcome:
    """Send the request and read what `post` needs of the answer; errors become outcomes.

    duration_ms is set when the status came in (the time to an answer, not to a drained body).
    """
    started = time.perf_counter()
    try:
        response = session().post(
            url,
            data=body.encode("utf-8"),
            headers=headers,
            # requests hands a urllib3 Timeout to urllib3 as is; types-requests omits it.
            timeout=timeout,  # type: ignore[arg-type]
            allow_redirects=False,
            stream=True,
        )
    except TargetRefused as error:
        return Outcome(error=f"Refused: {error}")
    except requests.Timeout:
        return Outcome(error="Timed out")
    except requests.ConnectionError as error:
        return Outcome(error=f"Connection failed: {_reason(error)}")
    except requests.RequestException as error:
        return Outcome(error=f"Request failed: {_reason(error)}")
    duration_ms = round((time.perf_counter() - started) * 1000)
    with response:
        outcome = Outcome(status_code=response.status_code, duration_ms=duration_ms)
        if response.is_redirect:
            location = response.headers.get("location", "")
            outcome.error = f"Redirect to {location} not followed"[:MAX_ERROR_LENGTH]
        elif response.status_code == 429 or response.status_code >= 500:
            outcome.retry_after = parse_retry_after(response.headers.get("retry-after"))
        # Drain a small body so the connection can be reused; a large one closes it instead.
        try:
            if int(response.headers.get("content-length") or "0") <= 64 * 1024:
                response.raw.read(64 * 1024)
        except (ValueError, requests.RequestException, urllib3.exceptions.HTTPError, OSError):
            pass
    return outcome


def _reason(error: Exception) -> str:
    """The innermost useful message of a requests/urllib3 exception."""
    text = str(error)
    for marker in ("Failed to establish a new connection: ", "Caused by "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip(" )'\"")[:300]


def exchange_in_slot(delivery: Delivery) -> Attempted | None:
    """`exchange`, unless the delivery's rate slot expired (None: it needs another,
    webhooks.claims.slot_expired). The attempt's time is read before the slot is checked, so
    a thread paused between the two only makes the check later: the signed timestamp is
    never past the window that counted the attempt."""
    attempted_at = timezone.now()
    if claims.slot_expired(delivery):
        return None
    return exchange(delivery, attempted_at=attempted_at)


def exchange(delivery: Delivery, *, attempted_at: datetime | None = None) -> Attempted:
    """Sign and POST a claimed delivery whose `endpoint` is loaded and has granted it a rate
    slot; what came of it, to record (webhooks.recording). No database access: sending
    threads call it (webhooks.sender)."""
    endpoint = delivery.endpoint
    attempted_at = attempted_at or timezone.now()
    body = body_of(delivery.payload)
    headers = signed_headers(
        secrets=endpoint.signing_secrets(attempted_at),
        msg_id=delivery.msg_id,
        body=body,
        at=attempted_at.astimezone(UTC),
    )
    outcome = post(url=endpoint.url, body=body, headers=headers)
    return Attempted(delivery=delivery, attempted_at=attempted_at, outcome=outcome)


def send(delivery_id: int) -> None:
    """Claim one queued delivery (behind its endpoint's backlog if it has one) and attempt
    it if its endpoint's rate window has a slot, else leave it to the endpoint's drain.
    Workers send in batches (webhooks.sender); this is the same path for one delivery."""
    ready = claims.claim_ids([delivery_id])
    while ready:
        attempt = exchange_in_slot(ready[0])
        if attempt is not None:
            recording.record([attempt])
            return
        ready = claims.take_slots(ready)  # [] when it waits for the drain instead
