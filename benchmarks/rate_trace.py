"""Where a /rate's time goes in the bot process: per-stage timestamps (benchmarks only).

`install(bot)` (called by `botproc.py`) wraps, on the running bot's objects, the points a
/rate passes through and records `time.monotonic()` at each, per interaction:

    recv      the gateway's INTERACTION_CREATE parsed (discord.py's parser)
    check     the command tree's `interaction_check` entered (after its task was scheduled)
    handler   the /rate callback entered (options transformed: the movie looked up)
    predict0/predict1     the "I predicted" nicety (`predict`, since the fix
                          `predict_for_rating`, which runs beside the write)
    allowed1  inside predict: the hidden-ratings check (`prediction_allowed`) done
    ratings1  inside predict: the member's ratings read
    fold1     inside predict: the fold-in (`fold_in_if_needed`) done
    write0/write1         `storage.upsert_rating` (queued in the batch writer, committed)
    changed1  `rating_changed` returned
    service1  `RatingService.rate` returned
    reply0/reply1         the reply sent (the HTTP callback; the emulator's ack is in between)

`monotonic` is one clock for every process on the machine, so the load process joins these
with the emulator's `sent_at`/`callback_received_at` by interaction id (`summarise`). The batch
writer's transactions are recorded too (size, seconds, and the time queued before them).
Nothing here changes what the bot does; each wrapper is a few microseconds.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any

import numpy as np

_CURRENT: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
    "rate_trace", default=None)


class RateTrace:
    def __init__(self) -> None:
        self.recv: dict[int, float] = {}
        self.rates: dict[int, dict[str, float]] = {}
        self.batches: list[tuple[float, float, int]] = []  # (start, end, size)
        self.begins: list[tuple[float, float]] = []  # BEGIN IMMEDIATE: (start, end)
        self.commits: list[float] = []  # seconds from COMMIT's start to the batch's end
        self.recording = False

    def reset(self) -> None:
        self.recv, self.rates, self.batches, self.begins, self.commits = {}, {}, [], [], []
        self.recording = True

    def report(self) -> dict[str, Any]:
        rows = []
        for iid, stamps in self.rates.items():
            row = dict(stamps)
            if iid in self.recv:
                row["recv"] = self.recv[iid]
            rows.append({"id": iid, **row})
        return {"rates": rows, "batches": self.batches, "begins": self.begins,
                "commits": self.commits}


def _mark(name: str) -> None:
    row = _CURRENT.get()
    if row is not None:
        row[name] = time.monotonic()


def install(bot: Any) -> RateTrace:
    import bot.service.service as service_module
    import cogs.rating as rating_cog

    trace = RateTrace()
    state = bot._connection
    parse = state.parsers["INTERACTION_CREATE"]

    def parse_interaction(data: dict) -> None:
        if trace.recording:
            trace.recv[int(data["id"])] = time.monotonic()
        parse(data)

    state.parsers["INTERACTION_CREATE"] = parse_interaction

    check = bot.tree.interaction_check

    async def interaction_check(interaction):
        if trace.recording and interaction.command is not None \
                and interaction.command.name == "rate":
            trace.rates[interaction.id] = {"check": time.monotonic()}
        return await check(interaction)

    bot.tree.interaction_check = interaction_check

    within_ack, reply = rating_cog.within_ack, rating_cog.reply

    async def traced_within_ack(interaction, work, **kwargs):
        row = trace.rates.get(interaction.id)
        token = _CURRENT.set(row)
        try:
            _mark("handler")
            return await within_ack(interaction, work, **kwargs)
        finally:
            _mark("service1")
            _CURRENT.reset(token)

    async def traced_reply(interaction, content, **kwargs):
        row = trace.rates.get(interaction.id)
        if row is not None:
            row["reply0"] = time.monotonic()
        try:
            return await reply(interaction, content, **kwargs)
        finally:
            if row is not None:
                row["reply1"] = time.monotonic()

    rating_cog.within_ack, rating_cog.reply = traced_within_ack, traced_reply

    services = bot.services
    recs = services.ratings.recommendations
    storage = services.ratings.storage

    def wrap(obj: Any, name: str, before: str | None, after: str) -> None:
        original = getattr(obj, name)

        async def wrapper(*args, **kwargs):
            if before:
                _mark(before)
            try:
                return await original(*args, **kwargs)
            finally:
                _mark(after)

        setattr(obj, name, wrapper)

    wrap(recs, "predict", "predict0", "predict1")  # before the fix: /rate's loaded_only predict
    if hasattr(recs, "predict_for_rating"):  # after it: beside the write, nothing folded in
        wrap(recs, "predict_for_rating", "predict0", "predict1")
    wrap(storage, "upsert_rating", "write0", "write1")
    wrap(recs, "rating_changed", None, "changed1")
    wrap(recs.models, "fold_in_if_needed", None, "fold1")
    wrap(storage, "member_rating_arrays", None, "ratings1")
    allowed = service_module.prediction_allowed

    async def traced_allowed(*args, **kwargs):
        try:
            return await allowed(*args, **kwargs)
        finally:
            _mark("allowed1")

    service_module.prediction_allowed = traced_allowed

    # Round trips to a connection's thread (aiosqlite runs every call there) made by the /rate
    # handler's own code: each is a wait for the GIL on both sides on a busy process.
    connections = [storage._conn, getattr(storage, "_bulk", None),
                   *getattr(getattr(storage, "_readers", None), "_connections", [])]
    for conn in {id(c): c for c in connections if c is not None}.values():
        execute = conn._execute

        async def counted(fn, *args, _execute=execute, **kwargs):
            row = _CURRENT.get()
            if row is not None:
                row["trips"] = row.get("trips", 0) + 1
            return await _execute(fn, *args, **kwargs)

        conn._execute = counted

    # Inside a batch (on the writer's thread, since the one-round-trip writer): the wait for
    # SQLite's write lock (BEGIN IMMEDIATE) apart from the statements and the COMMIT (which
    # runs the WAL auto-checkpoint when the log is past its threshold).
    try:
        import bot.storage.sqlite.ratings as sqlite_ratings
    except ImportError:  # pragma: no cover - another backend
        sqlite_ratings = None
    if sqlite_ratings is not None and hasattr(sqlite_ratings, "begin_immediate"):
        begin = sqlite_ratings.begin_immediate

        def timed_begin(conn):
            start = time.monotonic()
            try:
                return begin(conn)
            finally:
                if trace.recording:
                    trace.begins.append((start, time.monotonic()))

        sqlite_ratings.begin_immediate = timed_begin
        batch_sync = sqlite_ratings.write_rating_batch

        def traced_batch_sync(conn, batch):
            # statement starts (sqlite3's trace callback): the COMMIT's own time apart
            marks: list[tuple[float, str]] = []
            conn.set_trace_callback(lambda sql: marks.append((time.monotonic(), sql[:6])))
            try:
                return batch_sync(conn, batch)
            finally:
                end = time.monotonic()
                conn.set_trace_callback(None)
                commit = next((t for t, sql in marks if sql.startswith("COMMIT")), None)
                if trace.recording and commit is not None:
                    trace.commits.append(end - commit)

        sqlite_ratings.write_rating_batch = traced_batch_sync

    writer = storage._ratings_writer
    write_batch = writer._write_batch

    async def traced_batch(batch):
        start = time.monotonic()
        try:
            return await write_batch(batch)
        finally:
            if trace.recording:
                trace.batches.append((start, time.monotonic(), len(batch)))

    writer._write_batch = traced_batch
    return trace


# ---------------------------------------------------------------------- the load side
SPANS = (  # (label, from stamp, to stamp)
    ("sent -> bot parsed it", "sent", "recv"),
    ("parsed -> interaction_check", "recv", "check"),
    ("check -> handler (transform)", "check", "handler"),
    ("handler -> predict start", "handler", "predict0"),
    ("predict: hidden-ratings check", "predict0", "allowed1"),
    ("predict: member's ratings read", "allowed1", "ratings1"),
    ("predict: fold-in", "ratings1", "fold1"),
    ("predict (whole)", "predict0", "predict1"),
    ("write (queued + batch commit)", "write0", "write1"),
    ("rating_changed", "write1", "changed1"),
    ("service returned -> reply start", "service1", "reply0"),
    ("handler -> reply start", "handler", "reply0"),
    ("reply start -> emulator got the ack", "reply0", "ack"),
    ("sent -> ack (what is reported)", "sent", "ack"),
)


def summarise(report: dict[str, Any], inters: list[Any]) -> list[str]:
    """Lines of per-stage p50/p99/max (ms) for the traced /rate interactions."""
    by_id = {i.id: i for i in inters}
    rows = []
    for row in report.get("rates", []):
        inter = by_id.get(row["id"])
        if inter is None or inter.callback_received_at is None:
            continue
        rows.append(row | {"sent": inter.sent_at, "ack": inter.callback_received_at})
    lines = [f"/rate stages in the bot process ({len(rows)} traced; ms):",
             f"  {'stage':<40}{'n':>6}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}"]
    for label, a, b in SPANS:
        values = np.array([1000 * (r[b] - r[a]) for r in rows if a in r and b in r])
        if values.size == 0:
            continue
        p50, p90, p99 = np.percentile(values, [50, 90, 99])
        lines.append(f"  {label:<40}{values.size:>6}{p50:>9.1f}{p90:>9.1f}{p99:>9.1f}"
                     f"{values.max():>9.1f}")
    trips = np.array([r.get("trips", 0) for r in rows])
    if trips.size:
        lines.append(f"  round trips to connection threads per /rate (handler to reply; the "
                     f"batch writer's shared ones included): mean {trips.mean():.1f}, "
                     f"max {trips.max()}")
    batches = report.get("batches", [])
    if batches:
        sizes = np.array([b[2] for b in batches])
        secs = np.array([1000 * (b[1] - b[0]) for b in batches])
        lines.append(f"  rating batches: {len(batches)}, size mean {sizes.mean():.1f} max "
                     f"{sizes.max()}, commit ms p50 {np.percentile(secs, 50):.1f} p99 "
                     f"{np.percentile(secs, 99):.1f} max {secs.max():.1f}")
    begins = report.get("begins", [])
    if begins and len(begins) == len(batches):
        wait = np.array([1000 * (b[1] - b[0]) for b in begins])
        rest = np.array([1000 * (b[1] - b[0]) for b in batches]) - wait
        lines.append(f"  in a batch: waiting for SQLite's write lock ms p50 "
                     f"{np.percentile(wait, 50):.1f} p99 {np.percentile(wait, 99):.1f} max "
                     f"{wait.max():.1f}; statements + COMMIT (with any WAL checkpoint) p50 "
                     f"{np.percentile(rest, 50):.1f} p99 {np.percentile(rest, 99):.1f} max "
                     f"{rest.max():.1f}")
    commits = np.array(report.get("commits", [])) * 1000
    if commits.size:
        lines.append(f"  COMMIT alone (with any WAL checkpoint) ms p50 "
                     f"{np.percentile(commits, 50):.1f} p99 {np.percentile(commits, 99):.1f} "
                     f"max {commits.max():.1f}")
    return lines
