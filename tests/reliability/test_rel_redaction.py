"""Every output path of `python -m bot` is redacted (security issue, round 2, row 21): after the
CLI set up its logging, a warning, an exception raised in `__del__`, a log call whose format
fails, and an uncaught exception all carry the token and the config's other secrets (the Redis
password, the TMDB key, the job key, a PostgreSQL URL's password), and none of them reaches
stdout or stderr unredacted."""

from __future__ import annotations

import subprocess
import sys

import timeouts
from rel_support import REPO, subprocess_env

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.secret-token-value_0123456789abcdef"
REDIS_PASSWORD = "redis-pass-5ecret-7781"
TMDB_KEY = "tmdb-key-5ecret-0123456789"
JOB_KEY = "job-key-5ecret-0123456789abcdef"
PG_PASSWORD = "pg-pass-5ecret-4242"  # not in the config: any URL's password is hidden

LEAKS = """
import gc, logging, sys, warnings
import bot.__main__ as cli

TOKEN, REDIS_PASSWORD, TMDB_KEY, JOB_KEY, PG_PASSWORD = {secrets!r}
code = cli.main(sys.argv[1:])  # sets up logging and the hooks, as every `python -m bot` run
print("main returned", code, flush=True)

warnings.warn(f"a library deprecates something, using Bot {{TOKEN}}")
warnings.warn(f"cannot reach postgresql://moviebot:{{PG_PASSWORD}}@db:5432/moviebot")

class Session:
    def __del__(self):
        raise RuntimeError(f"closing with {{TOKEN}} on redis://:{{REDIS_PASSWORD}}@redis:6379")

Session()  # dropped at once: its __del__ raises, Python reports it as unraisable
gc.collect()
logging.getLogger("library").warning("%d requests for %s", "not a number", TMDB_KEY)
raise ValueError(f"signing with {{JOB_KEY}} failed")  # uncaught in the main thread
"""


def test_warnings_unraisable_bad_formats_and_crashes_are_redacted(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[discord]\ntoken = "{TOKEN}"\n[storage]\n'
                      f'database = "{(tmp_path / "bot.sqlite3").as_posix()}"\n'
                      f'[redis]\njob_key = "{JOB_KEY}"\n', encoding="utf-8")
    config.chmod(0o600)
    script = tmp_path / "leaks.py"
    secrets = (TOKEN, REDIS_PASSWORD, TMDB_KEY, JOB_KEY, PG_PASSWORD)
    script.write_text(LEAKS.format(secrets=secrets), encoding="utf-8")
    env = subprocess_env(MOVIEBOT_REDIS_URL=f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0",
                         MOVIEBOT_TMDB_API_KEY=TMDB_KEY)
    result = subprocess.run([sys.executable, str(script), "--config", str(config), "purge"],
                            cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=timeouts.scaled(60),
                            check=False)
    output = result.stdout + result.stderr
    assert "main returned" in output, output
    # Each path printed something (redacted), rather than nothing at all.
    assert "a library deprecates something, using Bot [token]" in output
    assert "postgresql://moviebot:***@db:5432/moviebot" in output
    assert "Exception ignored in: <function Session.__del__" in output
    assert "closing with [token] on redis://:***@redis:6379" in output
    assert "unformattable log message" in output and "[secret]" in output
    assert "signing with [secret] failed" in output
    for secret in secrets:
        assert secret not in output, secret
    assert TOKEN.split(".")[-1] not in output
    assert result.returncode == 1
