"""Sign, send and record one delivery attempt; decide what happens next.

State of a delivery (see models.Delivery.Status):
  QUEUED --claim--> SENDING --2xx--> SUCCEEDED
                            --410, other 4xx, 3xx, refused target, schedule exhausted--> FAILED
                            --429/5xx/timeout/connection error--> retry at next_attempt_at
                            --over the rate limit--> WAITING (no attempt; see webhooks.backlog)
  QUEUED --claim, while its endpoint has a backlog--> WAITING
  WAITING --the endpoint's drain, oldest first, a window's budget at a time--> SENDING
A wait of at most COUNTDOWN_MAX_SECONDS goes back to QUEUED with a Celery countdown; a longer
one goes to PENDING, and webhooks.poller (send_due_deliveries) queues it when `next_attempt_at`
comes: due times live in PostgreSQL, never only in the broker, whose visibility timeout would
redeliver them.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import requests
import urllib3
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from urllib3.util.timeout import Timeout

from webhooks import alerts, backlog, delivery_metrics, health, ratelimit
from webhooks.deadline import Deadline, install
from webhooks.endpoint_locks import share_endpoint
from webhooks.events import enqueue_after_commit
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.targets import TargetRefused, guarded_session

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, ... failed attempt; then the delivery fails.
RETRY_SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
JITTER = 0.1  # each wait is stretched or shrunk by up to 10 %
MAX_RETRY_AFTER_SECONDS = 24 * 3600
# Waits up to this long may be a Celery countdown (well under the broker's visibility timeout).
COUNTDOWN_MAX_SECONDS = 120
USER_AGENT = "Acme-Webhooks/1.0"
MAX_ERROR_LENGTH = 500

_session: requests.Session | None = None


def session() -> requests.Session:
    """One pooled, guarded session per process (created after the worker forks)."""
    global _session
    if _session is None:
        _session = install(guarded_session())
    return _session


@dataclass
class Outcome:
    status_code: int | None = None
    duration_ms: int | None = None
    error: str = ""
    retry_after: float | None = None

    @property
    def success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        if self.status_code is None:
            return self.error != "" and not self.error.startswith("Refused")
        return self.status_code == 429 or self.status_code >= 500


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


def _relaxed_commit() -> None:
    """Inside a transaction: commit without waiting for the WAL flush.

    Recording attempts is the hot path. If PostgreSQL itself crashes, the last few hundred
    milliseconds of recorded attempts may be lost; such a delivery is then sent again with the
    same webhook-id (at-least-once, as Standard Webhooks expects).
    Nothing outside webhooks is affected: the setting is local to these transactions.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


# One round trip: the conditional UPDATE that claims the row returns it. The row becomes
# SENDING, or WAITING when its endpoint already has deliveries waiting for a rate window
# (it joins the end of that backlog, so the endpoint's deliveries stay in order).
_CLAIM_SQL = """
WITH claimed AS (
    UPDATE webhooks_delivery AS d SET
        status = CASE WHEN EXISTS (
            SELECT 1 FROM webhooks_delivery AS w
            WHERE w.endpoint_id = d.endpoint_id AND w.status = %s
        ) THEN %s ELSE %s END,
        claimed_at = %s
    WHERE d.id = %s AND d.status = %s AND d.next_attempt_at <= %s
    RETURNING d.*
)
SELECT * FROM claimed
"""


def claim(delivery_id: int) -> Delivery | None:
    """QUEUED -> SENDING (or WAITING, behind its endpoint's backlog) once it is due, returning
    the row; a duplicate or early message (or a delivery deleted with its endpoint) claims
    nothing."""
    now = timezone.now()
    waiting = Delivery.Status.WAITING
    params = [
        waiting,
        waiting,
        Delivery.Status.SENDING,
        now,
        delivery_id,
        Delivery.Status.QUEUED,
        now + timedelta(seconds=1),
    ]
    return next(iter(Delivery.objects.raw(_CLAIM_SQL, params)), None)


def send(delivery_id: int) -> None:
    """Steps: claim the row (behind its endpoint's backlog if it has one); check the
    endpoint; take a rate-limit slot, or wait for the endpoint's drain; attempt it."""
    delivery = claim(delivery_id)
    if delivery is None:
        return
    if delivery.status == Delivery.Status.WAITING:
        backlog.schedule_drain(delivery.endpoint_id)  # (one is scheduled already, as a rule)
        return
    endpoint = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).first()
    if endpoint is None:  # deleted a moment ago, and this delivery with it
        return
    delivery.endpoint = endpoint
    if not endpoint.enabled and not delivery.is_test:
        _finish(delivery, Delivery.Status.FAILED, error="Endpoint is disabled")
        return
    decision = ratelimit.acquire(endpoint_id=endpoint.id, limit=endpoint.rate_limit)
    if not decision.allowed:
        # Not an attempt: the endpoint's drain sends it in a later window, never dropped.
        backlog.wait_for_window(delivery)
        backlog.schedule_drain(endpoint.id, decision.retry_in)
        return
    attempt(delivery)


def attempt(delivery: Delivery) -> None:
    """POST a claimed (SENDING) delivery, whose `endpoint` is loaded and has granted a rate
    slot, signed; record the attempt and the delivery's next state."""
    endpoint = delivery.endpoint
    if not endpoint.enabled and not delivery.is_test:
        _finish(delivery, Delivery.Status.FAILED, error="Endpoint is disabled")
        return
    attempted_at = timezone.now()
    body = body_of(delivery.payload)
    headers = signed_headers(
        secrets=endpoint.signing_secrets(attempted_at),
        msg_id=delivery.msg_id,
        body=body,
        at=attempted_at.astimezone(UTC),
    )
    outcome = post(url=endpoint.url, body=body, headers=headers)
    try:
        record(delivery, outcome, attempted_at=attempted_at)
    except IntegrityError:
        # The endpoint (and so this delivery) was deleted while the request was in flight.
        logger.info("delivery %s vanished while being sent", delivery.id)


@transaction.atomic
def record(delivery: Delivery, outcome: Outcome, *, attempted_at: datetime) -> None:
    """Store the attempt, move the delivery (and, when final, its endpoint) on, and add the
    attempt to its endpoint's health rollup (last: see webhooks.health)."""
    _relaxed_commit()
    if not share_endpoint(delivery.endpoint_id):
        logger.info("delivery %s: its endpoint was deleted while it was sent", delivery.id)
        return
    error = outcome.error
    if not error and not outcome.success and outcome.status_code is not None:
        error = f"HTTP {outcome.status_code}"
    DeliveryAttempt.objects.create(
        delivery=delivery,
        endpoint=delivery.endpoint,
        attempted_at=attempted_at,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        error=error[:MAX_ERROR_LENGTH],
        success=outcome.success,
    )
    transaction.on_commit(partial(delivery_metrics.count_attempt, outcome.duration_ms))
    delivery.last_status_code = outcome.status_code
    delivery.last_duration_ms = outcome.duration_ms
    delivery.last_error = error[:MAX_ERROR_LENGTH]
    ended = _move_on(delivery, outcome, error=error)
    health.record_attempts(
        [
            health.Attempted(
                endpoint_id=delivery.endpoint_id,
                attempted_at=attempted_at,
                success=outcome.success,
                duration_ms=outcome.duration_ms,
                error=error,
                ended=None if delivery.is_test else ended,
            )
        ]
    )


def _move_on(delivery: Delivery, outcome: Outcome, *, error: str) -> str | None:
    """After an attempt: finish the delivery or schedule its retry; returns the final status
    it reached (None while it will be retried)."""
    endpoint = delivery.endpoint
    if outcome.success:
        _finish(delivery, Delivery.Status.SUCCEEDED)
        # (Skipped when the endpoint had no failures as loaded a moment ago: the hot path.)
        if not delivery.is_test and endpoint.consecutive_failures:
            WebhookEndpoint.objects.filter(pk=endpoint.pk, consecutive_failures__gt=0).update(
                consecutive_failures=0
            )
        return Delivery.Status.SUCCEEDED
    if outcome.status_code == 410 and not delivery.is_test:
        _finish(delivery, Delivery.Status.FAILED)
        alerts.disable_endpoint(endpoint.pk, reason="The receiver answered 410 Gone.")
        return Delivery.Status.FAILED
    if (
        outcome.retryable
        and not delivery.is_test
        and delivery.retries < len(RETRY_SCHEDULE_SECONDS)
    ):
        wait = outcome.retry_after
        if wait is None:
            base = RETRY_SCHEDULE_SECONDS[delivery.retries]
            wait = base * random.uniform(1 - JITTER, 1 + JITTER)
        delivery.retries += 1
        _schedule(delivery, wait)
        return None
    _finish(delivery, Delivery.Status.FAILED)
    if not delivery.is_test:
        if outcome.retryable:  # a failure worth retrying, but the schedule is used up
            alerts.delivery_exhausted(delivery, error=error)
        count_failure(endpoint, last_error=error)
    return Delivery.Status.FAILED


def _schedule(delivery: Delivery, wait_seconds: float) -> None:
    """Due again in `wait_seconds`: a countdown when short, else the poller's business."""
    now = timezone.now()
    delivery.next_attempt_at = now + timedelta(seconds=wait_seconds)
    delivery.claimed_at = now
    short = wait_seconds <= COUNTDOWN_MAX_SECONDS
    delivery.status = Delivery.Status.QUEUED if short else Delivery.Status.PENDING
    delivery.save(
        update_fields=[
            "status",
            "retries",
            "next_attempt_at",
            "claimed_at",
            "last_status_code",
            "last_duration_ms",
            "last_error",
        ]
    )
    if short:
        enqueue_after_commit([delivery.id], countdown=max(wait_seconds, 0))


def _finish(delivery: Delivery, status: str, *, error: str | None = None) -> None:
    if not delivery.is_test:
        transaction.on_commit(partial(delivery_metrics.count_finished, status))
    delivery.status = status
    delivery.completed_at = timezone.now()
    delivery.next_attempt_at = None
    if error is not None:
        delivery.last_error = error
    delivery.save(
        update_fields=[
            "status",
            "retries",
            "completed_at",
            "next_attempt_at",
            "last_status_code",
            "last_duration_ms",
            "last_error",
        ]
    )


def count_failure(endpoint: WebhookEndpoint, *, last_error: str) -> None:
    """One more failed delivery in a row; at the configured number the endpoint is disabled."""
    limit = settings.WEBHOOKS_DISABLE_AFTER_FAILURES
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    failures = (
        WebhookEndpoint.objects.filter(pk=endpoint.pk)
        .values_list("consecutive_failures", flat=True)
        .first()
    )
    if failures is not None and limit and failures >= limit:
        alerts.disable_endpoint(
            endpoint.pk,
            reason=f"Disabled after {failures} failed deliveries in a row; last error: "
            f"{last_error or 'unknown'}.",
        )
