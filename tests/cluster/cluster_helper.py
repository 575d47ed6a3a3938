"""Subprocess side of the cluster end-to-end test: the real `python -m bot ...` (main(), its
settings, logging and signal handling) pointed at the test's Discord emulator.

    python cluster_helper.py EMULATOR_BASE_URL ARGS...

discord.py's REST base and gateway URL are process-wide class attributes; this sets them to
the emulator (running in the test process) and then runs `bot.__main__.main(ARGS)`.
"""

from __future__ import annotations

import sys

import discord.gateway
import discord.http
import yarl

from bot.__main__ import main

if __name__ == "__main__":
    base = sys.argv[1].rstrip("/")
    discord.http.Route.BASE = base + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        base.replace("http://", "ws://") + "/gateway")
    sys.exit(main(sys.argv[2:]))
