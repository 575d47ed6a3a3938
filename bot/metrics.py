"""Optional Prometheus metrics: a `/metrics` endpoint in the text exposition format.

Off by default; `[metrics] enabled = true` serves it on `host:port` (default 127.0.0.1:9108,
loopback only: put a reverse proxy or an SSH tunnel in front to scrape from elsewhere). It uses
`prometheus-client` (the reference implementation of the format) with a registry of its own:

* `moviebot_commands_total{command,outcome}` and `moviebot_command_seconds{command}`:
  slash commands answered (outcome "ok" or "error") and how long they took in the bot;
* `moviebot_fits_total{outcome}` and `moviebot_fit_seconds`: model fits and their duration;
* `moviebot_fit_queue_length`: fits submitted and not finished (running or queued);
* `moviebot_model_cache_hits_total` / `..._misses_total` / `moviebot_models_cached`;
* `moviebot_gc_pause_seconds{generation}`: Python's garbage collector pauses;
* `moviebot_guilds`: the servers the bot is in (this process's shards);
* `moviebot_gateway_connected{shard}` (1 while the shard's gateway connection is up, else 0)
  and `moviebot_gateway_connects_total{shard}` (connections and resumes: a fast-growing
  count is a flapping connection);
* `moviebot_info{version}`, and the client's own process metrics (memory, CPU, open files).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0, 600.0)
GC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)


class _ServiceCollector(Collector):
    """Read at scrape time from the recommendation service (nothing to keep in sync)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        recs = self.metrics.recommendations
        if recs is None:
            return
        pending = getattr(getattr(recs, "pool", None), "pending", None)
        queue = sum(pending.values()) if isinstance(pending, dict) else 0
        yield GaugeMetricFamily("moviebot_fit_queue_length",
                                "Model fits submitted and not finished (running or queued)",
                                value=queue)
        cache = getattr(getattr(recs, "models", None), "cache", None)  # GuildModels.cache
        if cache is not None:
            yield GaugeMetricFamily("moviebot_models_cached", "Guild models held in memory",
                                    value=len(cache))
            yield CounterMetricFamily("moviebot_model_cache_hits",
                                      "Model look-ups answered from memory",
                                      value=getattr(cache, "hits", 0))
            yield CounterMetricFamily("moviebot_model_cache_misses",
                                      "Model look-ups that had to load or fit a model",
                                      value=getattr(cache, "misses", 0))


class Metrics:
    """The bot's metrics in one registry; `serve()` starts the endpoint."""

    def __init__(self, version: str = "unknown") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.recommendations: Any = None
        self.commands = Counter("moviebot_commands", "Slash commands answered",
                                ("command", "outcome"), registry=self.registry)
        self.command_seconds = Histogram("moviebot_command_seconds",
                                         "Time a slash command took in the bot", ("command",),
                                         buckets=LATENCY_BUCKETS, registry=self.registry)
        self.fits = Counter("moviebot_fits", "Model fits", ("outcome",), registry=self.registry)
        self.fit_seconds = Histogram("moviebot_fit_seconds", "Duration of a model fit",
                                     buckets=FIT_BUCKETS, registry=self.registry)
        self.gc_pauses = Histogram("moviebot_gc_pause_seconds",
                                   "Garbage collector pauses", ("generation",),
                                   buckets=GC_BUCKETS, registry=self.registry)
        self.guilds = Gauge("moviebot_guilds", "Servers the bot is in (this process's shards)",
                            registry=self.registry)
        self.gateway_connected = Gauge(
            "moviebot_gateway_connected", "1 while the shard's gateway connection is up",
            ("shard",), registry=self.registry)
        self.gateway_connects = Counter(
            "moviebot_gateway_connects", "Gateway connections and resumes", ("shard",),
            registry=self.registry)
        info = Gauge("moviebot_info", "The running bot", ("version",), registry=self.registry)
        info.labels(version=version).set(1)
        ProcessCollector(registry=self.registry)
        self.registry.register(_ServiceCollector(self))
        self._gc_started: dict[int, float] = {}
        self._server: Any = None
        self.port: int | None = None  # where `serve` listens
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ recording
    def command_done(self, command: str, seconds: float, *, ok: bool) -> None:
        self.commands.labels(command=command, outcome="ok" if ok else "error").inc()
        self.command_seconds.labels(command=command).observe(max(0.0, seconds))

    def fit_done(self, seconds: float | None, *, ok: bool) -> None:
        self.fits.labels(outcome="ok" if ok else "error").inc()
        if ok and seconds is not None:
            self.fit_seconds.observe(seconds)

    def guild_count(self, count: int) -> None:
        self.guilds.set(count)

    def gateway(self, shard: int, *, connected: bool) -> None:
        """A shard's gateway connection went up (connect or resume) or down."""
        self.gateway_connected.labels(shard=str(shard)).set(1 if connected else 0)
        if connected:
            self.gateway_connects.labels(shard=str(shard)).inc()

    def watch(self, recommendations: Any) -> None:
        """Count the recommendation service's fits (wrapping its pool's `refit`) and read its
        queue and model cache at each scrape."""
        self.recommendations = recommendations
        pool: Any = getattr(recommendations, "pool", None)
        refit = getattr(pool, "refit", None)
        if pool is None or refit is None or getattr(refit, "_moviebot_metrics", False):
            return

        async def timed_refit(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await refit(*args, **kwargs)
            except Exception:
                self.fit_done(None, ok=False)
                raise
            report = getattr(result, "report", None)
            seconds = getattr(report, "seconds", None)
            self.fit_done(seconds if seconds is not None else time.perf_counter() - started,
                          ok=True)
            return result

        timed_refit._moviebot_metrics = True  # type: ignore[attr-defined]
        pool.refit = timed_refit

    def _gc_callback(self, phase: str, info: dict[str, int]) -> None:
        thread = threading.get_ident()
        if phase == "start":
            self._gc_started[thread] = time.perf_counter()
            return
        started = self._gc_started.pop(thread, None)
        if started is not None:
            self.gc_pauses.labels(generation=str(info.get("generation", 0))).observe(
                time.perf_counter() - started)

    # ------------------------------------------------------------------ serving
    def serve(self, host: str, port: int) -> int:
        """Start the endpoint (a daemon thread); returns the port it listens on."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        if self._gc_callback not in gc.callbacks:
            gc.callbacks.append(self._gc_callback)
        bound = self.port = int(self._server.server_port)
        log.info("metrics on http://%s:%d/metrics", host, bound)
        return bound

    def close(self) -> None:
        if self._gc_callback in gc.callbacks:
            gc.callbacks.remove(self._gc_callback)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
