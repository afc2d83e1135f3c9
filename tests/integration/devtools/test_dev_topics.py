"""`make run` creates the suite's topics on its own Tansu before the services start (devtools.tansu.create_topics)."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer

from devtools.tansu import TansuBroker, create_topics


async def partitions_of(bootstrap: str, names: list[str]) -> dict[str, set[int] | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # refresh the metadata
        return {name: consumer.partitions_for_topic(name) for name in names}
    finally:
        await consumer.stop()


async def test_missing_topics_are_created_with_the_partitions_asked_for_and_existing_ones_are_left_alone(
        broker: TansuBroker) -> None:
    run = uuid.uuid4().hex[:8]
    names = [f"devtopics.{run}.a", f"devtopics.{run}.b"]

    assert sorted(await create_topics(broker.bootstrap, names, 1)) == names
    assert await partitions_of(broker.bootstrap, names) == {name: {0} for name in names}

    third = f"devtopics.{run}.c"
    assert await create_topics(broker.bootstrap, [*names, third], 3) == [third]
    assert await partitions_of(broker.bootstrap, [*names, third]) == {names[0]: {0}, names[1]: {0},
                                                                      third: {0, 1, 2}}
