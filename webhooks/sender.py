"""A webhook worker's sending run: claim queued deliveries in batches, send them on threads,
record their outcomes in batches.

Why: one Celery task per delivery cost a message, a claim, an endpoint read, a rate-limit
call and a recording transaction each, plus a new connection per attempt, and a worker
process sent one delivery at a time (about 40 deliveries/s with 2 processes). Now a commit
that queues deliveries sends one wake-up message (webhooks.events.wake; commits while one is
pending send none), and the run it starts, in one pool process:

1. claims as many due queued deliveries as it has idle threads, in one statement
   (webhooks.claims: FOR UPDATE SKIP LOCKED, so runs in other processes take other rows),
   reads their endpoints in one query and takes each endpoint's rate-limit slots in one
   Redis call; deliveries without a slot wait for their endpoint's drain, as before;
2. hands each delivery to one of WEBHOOKS_SENDER_THREADS threads at once (a slot is used in
   the window it was granted in), which signs and POSTs it under its hard deadline
   (webhooks.delivery.exchange) over the process's pooled keep-alive connections; a slow
   receiver holds one thread, the others carry on;
3. records the answers that came in, together, in one transaction (webhooks.recording);
4. claims again while threads are idle; when a claim fills every idle thread (more may be
   waiting), it wakes another process to join; the run ends once nothing is claimed and
   nothing is in flight, or after RUN_SECONDS, handing over to a fresh run (so drains and
   other tasks queued meanwhile get their turn, and the task stays far inside its time
   limit).

Guarantees kept: a claimed delivery is SENDING until its outcome is recorded; a process
killed mid-batch leaves its claimed rows SENDING, and the poller queues them again once they
are older than an attempt can last (webhooks.poller.recover_stale), so nothing is lost; a
delivery whose request went out but whose outcome was not recorded is sent again with the
same webhook-id (at-least-once, as before). Database work stays on the run's own thread and
connection: the sending threads only sign and POST.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings

from webhooks import claims, delivery, events, recording
from webhooks.models import Delivery
from webhooks.recording import Attempted, Outcome

logger = logging.getLogger(__name__)

# A run hands over to a fresh one after this long (see the module docstring, step 4).
RUN_SECONDS = 20.0
# Outcomes are recorded once this many have come in, or this long after the first of them.
RECORD_BATCH = 64
RECORD_EVERY_SECONDS = 0.05
# Claim again once at least this share of the threads is idle (fewer, larger claims).
REFILL_SHARE = 0.25

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    """The process's sending threads (created in the pool process, after the fork)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.WEBHOOKS_SENDER_THREADS, thread_name_prefix="webhook-send"
            )
        return _pool


def _exchange(item: Delivery) -> Attempted | Delivery:
    """On a sending thread: the attempt, or the delivery itself when its rate slot expired
    before it could start (webhooks.claims.slot_expired)."""
    try:
        attempt = delivery.exchange_in_slot(item)
        return item if attempt is None else attempt
    except Exception as error:  # a bug must not lose the batch: retried like a failed request
        logger.exception("delivery %s: sending failed unexpectedly", item.id)
        return Attempted(
            delivery=item,
            attempted_at=item.claimed_at or item.created_at,
            outcome=Outcome(error=f"Request failed: {type(error).__name__}"),
        )


def run() -> int:
    """One sending run (steps in the module docstring); returns how many attempts it made."""
    events.wake_taken()
    threads = settings.WEBHOOKS_SENDER_THREADS
    pool = _threads()
    delivery.session()  # created once, before the threads share it
    one_attempt = (
        settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS
    )
    claim_until = time.monotonic() + min(
        RUN_SECONDS, settings.WEBHOOKS_TASK_TIME_LIMIT_SECONDS - one_attempt - 15
    )
    in_flight: set[Future[Attempted | Delivery]] = set()
    answered: list[Attempted] = []
    unsent: list[Delivery] = []
    first_answer_at = 0.0
    attempts = 0
    more_to_claim = True
    handed_over = False
    while True:
        idle = threads - len(in_flight)
        if time.monotonic() >= claim_until and more_to_claim:
            more_to_claim = False
            handed_over = True
        if more_to_claim and (not in_flight or idle >= max(1, threads * REFILL_SHARE)):
            batch = claims.claim_due(idle)
            for item in batch:
                in_flight.add(pool.submit(_exchange, item))
            if len(batch) == idle and idle == threads:
                events.wake()  # a backlog: another process may join
            # Nothing left to claim: finish what is in flight (new commits wake a new run).
            more_to_claim = bool(batch) or bool(in_flight)
        if not in_flight and not answered:
            if not more_to_claim:
                break
            continue
        if in_flight:
            timeout = RECORD_EVERY_SECONDS if answered or idle else None
            done, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                in_flight.discard(future)
                result = future.result()
                if isinstance(result, Delivery):
                    unsent.append(result)
                    continue
                if not answered:
                    first_answer_at = time.monotonic()
                answered.append(result)
            if unsent:  # their window ended before they started: a slot of this one
                for item in claims.take_slots(unsent):
                    in_flight.add(pool.submit(_exchange, item))
                unsent = []
        due = time.monotonic() - first_answer_at >= RECORD_EVERY_SECONDS
        if answered and (len(answered) >= RECORD_BATCH or due or not in_flight):
            recording.record(answered)
            attempts += len(answered)
            answered = []
    if handed_over:
        events.wake(force=True)
    return attempts
