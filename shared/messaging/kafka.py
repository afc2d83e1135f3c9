"""Kafka clients with the settings this suite relies on (no idempotent producer: Tansu refuses InitProducerId, and
correctness comes from the outbox and the consumers' inbox instead)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.settings import ServiceSettings


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"linkage-{settings.service_name}",
        acks="all",
        enable_idempotence=False,
        linger_ms=2,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


def make_consumer(settings: ServiceSettings, topics: list[str], group_id: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id or settings.consumer_group,
        client_id=f"linkage-{settings.service_name}",
        enable_auto_commit=False,  # offsets are committed only after the database commit
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_poll_records=500,
        retry_backoff_ms=200,
    )
