"""Leases: one replica at a time runs a job (the outbox relay, the periodic sweep).

Portable across SQLite and PostgreSQL: an UPDATE that only succeeds for the holder or after expiry,
then an INSERT for a lease that never existed. Each call is its own short transaction.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError

from shared.clock import Clock
from shared.db import Database
from shared.tables import job_leases


class Lease:
    def __init__(self, db: Database, name: str, holder: str, clock: Clock, ttl: timedelta) -> None:
        self.db, self.name, self.holder, self.clock, self.ttl = db, name, holder, clock, ttl

    async def acquire(self) -> bool:
        """Take or renew the lease; False when another live holder has it."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            result = await session.execute(
                update(job_leases)
                .where(
                    job_leases.c.name == self.name,
                    or_(job_leases.c.holder == self.holder, job_leases.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                return True
        try:
            async with self.db.transaction() as session:
                await session.execute(
                    insert(job_leases).values(name=self.name, holder=self.holder, expires_at=now + self.ttl)
                )
            return True
        except IntegrityError:
            return False

    async def release(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(job_leases)
                .where(job_leases.c.name == self.name, job_leases.c.holder == self.holder)
                .values(expires_at=self.clock.now() - timedelta(seconds=1))
            )
