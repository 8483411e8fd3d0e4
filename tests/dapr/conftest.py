"""The distributed topology on one machine: real Kafka (scripts/devstack), a real daprd beside each service,
both services on the devstack PostgreSQL. In CI a missing part fails the run instead of skipping."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.conftest import eventually, truncate_all
from todo.bootstrap import build_container
from todo.config import Role, Settings
from todo.dapr_local import APP_IDS, LocalServers, Service, start_service
from todo.events.envelope import Topic

NEEDS = {"TODO_TEST_KAFKA": "Kafka", "TODO_TEST_REDIS": "Redis", "TODO_TEST_DAPRD": "daprd"}


@dataclass(frozen=True)
class DaprParts:
    kafka: str
    redis: str
    daprd: str


@pytest.fixture(scope="session")
def dapr_parts() -> DaprParts:
    missing = [what for name, what in NEEDS.items() if not os.environ.get(name)]
    if missing or not Path(os.environ["TODO_TEST_DAPRD"]).exists():
        what = ", ".join(missing) or "daprd"
        message = f"{what} not available: run `make test` (scripts/devstack up kafka redis daprd)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    asyncio.run(_delete_topics(os.environ["TODO_TEST_KAFKA"]))  # no events left over from an earlier run
    return DaprParts(
        os.environ["TODO_TEST_KAFKA"], os.environ["TODO_TEST_REDIS"], os.environ["TODO_TEST_DAPRD"]
    )


OUR_TOPICS = {t.value for t in Topic} | {"dead-letters"}


async def _delete_topics(kafka: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics()) & OUR_TOPICS
        if existing:
            await admin.delete_topics(sorted(existing))
    finally:
        await admin.close()


async def _skip_leftovers(kafka: str, group: str) -> bool:
    """Commit `group`'s offsets at the end of each of our topics; False while the group still has members.

    An earlier test's sidecar can stop before it commits its last deliveries. Kafka rightly hands them out
    again (at-least-once), but into this test's emptied database, where they would count as new events."""
    partitions = await _our_partitions(kafka)
    if not partitions:
        return True
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        left = 0
        for tp, end in ends.items():
            left += end - (await consumer.committed(tp) or 0)
        await consumer.commit(ends)
        print(f"{group}: skipped {left} records left uncommitted before this test")  # shown if it fails
        return True
    except KafkaError:  # a member that left uncleanly holds the group until its session times out
        return False
    finally:
        await consumer.stop()


async def _our_partitions(kafka: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        existing = sorted(set(await admin.list_topics()) & OUR_TOPICS)
        described = await admin.describe_topics(existing) if existing else []
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]


@dataclass
class Stack:
    """Starts services with their sidecars; stops them all at the end."""

    parts: DaprParts
    settings: Settings
    workdir: Path
    services: list[Service] = field(default_factory=list)

    async def start(self, role: Role) -> Service:
        if not self.services:  # a clean database for each test
            scratch = build_container(self.settings)
            await truncate_all(scratch)
            await scratch.engine.dispose()
            group = APP_IDS[Role.notifications]  # the one consumer group
            await eventually(lambda: _skip_leftovers(self.parts.kafka, group), within=60)
        service = await start_service(role, self.settings, daprd=self.parts.daprd, workdir=self.workdir,
                                      servers=LocalServers(self.parts.kafka, self.parts.redis))  # fmt: skip
        self.services.append(service)
        return service

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()


@pytest.fixture
async def stack(dapr_parts: DaprParts, postgres_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    settings = Settings(database_url=postgres_url, data_dir=tmp_path, jwt_secret="dapr-test-" + "x" * 40,
                        log_json=False, relay_poll_seconds=0.2,
                        relay_max_backoff_seconds=2.0)  # type: ignore[arg-type]  # fmt: skip
    built = Stack(dapr_parts, settings, tmp_path)
    yield built
    await built.stop()
