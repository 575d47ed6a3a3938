# Movie bot image: slim Python, non-root user, database on the /data volume.
# Configure with environment (DISCORD_TOKEN, MOVIEBOT_DATABASE) or a config file mounted at
# /config/config.toml (MOVIEBOT_CONFIG points there when present).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MOVIEBOT_DATABASE=/data/moviebot.sqlite3

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY recommender ./recommender
COPY emulator ./emulator
COPY console ./console
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin moviebot \
    && mkdir -p /data /config \
    && chown moviebot /data

USER moviebot
VOLUME ["/data"]
# `python -m bot` reads /config/config.toml if MOVIEBOT_CONFIG is set to it by the operator;
# otherwise built-in defaults plus the environment.
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
