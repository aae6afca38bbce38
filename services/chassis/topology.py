"""JetStream streams and durable consumers, ensured idempotently at start.

A consumer may start before its producer has ever run, so whoever needs a
stream ensures it. `pull_subscribe` never updates an existing consumer's
config, so consumers are added or updated here explicitly.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from services.chassis.events import consumer_name, stream_for

DUPLICATE_WINDOW_SECONDS = 120.0


DEFAULT_MAX_AGE_SECONDS = 7 * 24 * 3600.0


async def ensure_stream(js: JetStreamContext, name: str, *, max_age: float | None = None) -> None:
    """Create the stream if missing. Only its producer passes `max_age`, and
    only then is an existing stream's config updated: a consumer must not
    reset the retention its producer chose."""
    config = StreamConfig(
        name=name,
        subjects=[f"{name.lower()}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=max_age or DEFAULT_MAX_AGE_SECONDS,
    )
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
        return
    if max_age is not None:
        await js.update_stream(config)


async def ensure_consumer(
    js: JetStreamContext,
    *,
    consumer: str,
    subject: str,
    max_deliver: int,
    ack_wait: float,
) -> str:
    """Durable pull consumer `<consumer>--<subject>`; returns its name."""
    stream = stream_for(subject)
    await ensure_stream(js, stream)
    durable = consumer_name(consumer, subject)
    config = ConsumerConfig(
        durable_name=durable,
        filter_subject=subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        max_ack_pending=1000,
    )
    try:
        await js.consumer_info(stream, durable)
    except NotFoundError:
        await js.add_consumer(stream, config)
        return durable
    await js.add_consumer(stream, config)  # add with the same name updates the config
    return durable
