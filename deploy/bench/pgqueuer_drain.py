"""The comparison for `esurat bench dispatch`: PyPI pgqueuer draining no-op jobs.

Usage: pgqueuer_drain.py DSN JOBS WORKERS [BATCH]

Installs pgqueuer's schema in the database (replacing an earlier one), enqueues JOBS no-op
jobs and analyses the queue table, then starts WORKERS worker processes (each a QueueManager in drain mode, as pgqueuer is
deployed: one process per worker) and measures from the moment all are connected until the
last one has drained the queue. Prints "PGQUEUER jobs workers seconds done".
"""

import asyncio
import multiprocessing
import sys
import time
from datetime import timedelta

import asyncpg
from pgqueuer import AsyncpgDriver, Queries, QueueManager
from pgqueuer.domain.types import QueueExecutionMode


async def prepare(dsn: str, jobs: int) -> None:
    connection = await asyncpg.connect(dsn)
    queries = Queries(AsyncpgDriver(connection))
    if await queries.schema_is_installed():
        await queries.uninstall()
    await queries.install()
    chunk = 5000
    for start in range(0, jobs, chunk):
        n = min(chunk, jobs - start)
        await queries.enqueue(["noop"] * n, [None] * n, [0] * n)
    # Planner statistics for the full queue, as esurat's side gets: without them the dequeue
    # plan depends on whether autovacuum's analyse runs during the measurement, which swung
    # the drain rate two- to four-fold between runs.
    await connection.execute("ANALYZE pgqueuer")
    await connection.close()


def worker(dsn: str, batch: int, ready, go, finished) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(dsn)
        manager = QueueManager(Queries(AsyncpgDriver(connection)))

        @manager.entrypoint("noop")
        async def noop(job) -> None:
            return None

        ready.release()
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        await manager.run(batch_size=batch, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1))
        finished.put(time.perf_counter())
        await connection.close()

    asyncio.run(run())


async def remaining(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    count = await connection.fetchval("SELECT count(*) FROM pgqueuer")
    await connection.close()
    return count


def main() -> None:
    dsn, jobs, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    asyncio.run(prepare(dsn, jobs))
    context = multiprocessing.get_context("spawn")
    ready, go, finished = context.Semaphore(0), context.Event(), context.Queue()
    processes = [context.Process(target=worker, args=(dsn, batch, ready, go, finished)) for _ in range(workers)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    started = time.perf_counter()
    go.set()
    ends = [finished.get() for _ in processes]
    for process in processes:
        process.join()
    left = asyncio.run(remaining(dsn))
    print(f"PGQUEUER {jobs} {workers} {max(ends) - started:.3f} {jobs - left}", flush=True)


if __name__ == "__main__":
    main()
