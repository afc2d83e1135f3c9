"""The departments database: its declarative base, migrations, and the outbox / inbox / dead-letter tables."""

from pathlib import Path

from shared.db import make_base
from shared.messaging import DeadLetterMixin, OutboxMixin, ProcessedEventMixin

Base = make_base()
MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_ID = 0x4C4B_0301


class OutboxMessage(OutboxMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass
