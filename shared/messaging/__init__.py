"""Messaging that survives a forgetful broker: transactional outbox + relay, idempotent consumer + inbox."""

from shared.messaging.consumer import EventConsumer, Handler, PermanentError, Prefetch
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.models import DeadLetterMixin, OutboxMixin, ProcessedEventMixin
from shared.messaging.outbox import Outbox, OutboxRelay

__all__ = ["DeadLetterMixin", "EventConsumer", "Handler", "Outbox", "OutboxMixin", "OutboxRelay", "PermanentError", "Prefetch",
           "ProcessedEventMixin", "make_consumer", "make_producer"]
