# Movie bot image: slim Python, locked dependencies, non-root user, database on the /data volume.
# Configure with environment (DISCORD_TOKEN, MOVIEBOT_DATABASE) or a config file mounted at
# /config/config.toml (set MOVIEBOT_CONFIG=/config/config.toml). The image runs as uid:gid
# 10001:10001: a mounted config file must be readable by that uid (see the README's "Docker").
#
# Read-only root filesystem: the bot writes only to /data (the database, its -wal/-shm files,
# the health status file) and /tmp (matplotlib's MPLCONFIGDIR, whose font cache an empty tmpfs
# rebuilds at start in about a second; downloads of `catalog`/`prior download`), so it runs with
# `--read-only --tmpfs /tmp` (the worker processes' semaphores use /dev/shm, which Docker mounts
# writable anyway). It runs as any uid too (`--user 99:100` on Unraid) as long as /data is
# writable by it.
#
# Multi-arch (linux/amd64, linux/arm64): `docker buildx build --platform linux/amd64,linux/arm64`
# (README "Docker"; .github/workflows/image.yml publishes it). requirements.lock holds the hashes
# of both platforms' wheels, and the digest below must be the multi-platform index's (the
# "Digest:" line of `docker buildx imagetools inspect`), not one platform's manifest.
#
# Base image pinned by digest so a rebuild gets the same OS and Python. The digest below is the
# python:3.11-slim one found pinned in public Dockerfiles; it could not be checked against
# Docker Hub from where this was written. To move to a newer patch release, look the digest up
# and replace it: `docker buildx imagetools inspect python:3.11-slim` (the "Digest:" line).
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# MPLCONFIGDIR: matplotlib's font cache, built here once; the user's home (/app) is read-only,
# and without it matplotlib warned and rebuilt the cache at every start.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MOVIEBOT_DATABASE=/data/moviebot.sqlite3 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
# Dependencies first, exactly as locked (hashes checked), in their own cached layer.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY recommender ./recommender
COPY emulator ./emulator
COPY console ./console
RUN pip install --no-deps . \
    && groupadd --system --gid 10001 moviebot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin \
        moviebot \
    && mkdir -p /data /config \
    && chown moviebot:moviebot /data \
    && python -c "import matplotlib.font_manager" \
    && chown -R moviebot "$MPLCONFIGDIR"

LABEL org.opencontainers.image.title="moviebot" \
      org.opencontainers.image.description="Self-hosted Discord bot that recommends movies from each server's own ratings" \
      org.opencontainers.image.licenses="MIT"
# Numeric, so a runtime can check "not root" without reading /etc/passwd (runAsNonRoot).
USER 10001:10001
# The database (and its health status file) lives here: keep it on a volume or a host folder
# writable by the container's uid.
VOLUME ["/data"]
# The optional Prometheus endpoint ([metrics] enabled = true, host = "0.0.0.0"); off by default.
EXPOSE 9108
# Healthy (exit 0) = the database opens and the gateway heartbeat (kept in a status file next
# to the database) is under 90 s old. Exit 3 = starting: the database is ready, Discord not
# reached yet (`docker inspect` shows "starting: cannot reach Discord (attempt N, next in S s)");
# exit 1 = unhealthy. Docker counts any non-zero exit as a failed check; the first minute is for
# logging in.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
# `python -m bot` reads /config/config.toml if MOVIEBOT_CONFIG is set to it by the operator;
# otherwise built-in defaults plus the environment.
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
