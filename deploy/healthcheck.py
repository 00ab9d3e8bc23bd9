"""Container health check of the creditflow image: GET /livez of the service this container serves.

Run by Docker's ``HEALTHCHECK`` (and the Compose healthchecks) as ``python healthcheck.py``. Standard library
only, so it starts fast and needs nothing the slim base lacks (no curl). The service is read from the
command line of the container's main process (``creditflow serve <service>``), or from ``CREDITFLOW_SERVICE``;
the port from ``CREDITFLOW_<SERVICE>_PORT`` or the service's default port. A container that serves nothing
(``creditflow migrate`` and other one-shot commands) has nothing to check and reports healthy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

# Kept in step with shared.settings.SERVICE_PORTS by tests/deploy/test_dockerfile.py; not imported so that a
# health check does not load pydantic every few seconds.
SERVICE_PORTS = {"customers": 8001, "credit": 8002, "collections": 8003, "survey": 8004}
WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}
TIMEOUT_SECONDS = 3.0


def served_service(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The service named after ``serve`` in a command line, else CREDITFLOW_SERVICE when no command is given."""
    for position, argument in enumerate(argv):
        if argument == "serve" and position + 1 < len(argv):
            return argv[position + 1]
    if "migrate" in argv:
        return None
    return env.get("CREDITFLOW_SERVICE") or None


def livez_url(service: str, env: Mapping[str, str]) -> str:
    """The /livez URL of ``service`` inside this container, honouring its HOST and PORT settings."""
    prefix = f"CREDITFLOW_{service.upper()}_"
    port = int(env.get(prefix + "PORT") or 0) or SERVICE_PORTS[service]
    host = env.get(prefix + "HOST", "")
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/livez"


def main_process_argv(proc: Path = Path("/proc")) -> list[str]:
    """The command line of PID 1, the container's main process (empty where /proc is unreadable)."""
    try:
        raw = (proc / "1" / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def check(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Exit status for a container whose main process runs ``argv``: 0 healthy (or nothing served), 1 not."""
    service = served_service(argv, env)
    if service is None:
        print("healthcheck: this container serves no HTTP service; nothing to check")
        return 0
    if service not in SERVICE_PORTS:
        print(f"healthcheck: unknown service {service!r}", file=sys.stderr)
        return 1
    url = livez_url(service, env)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


def main() -> int:
    """Check the service served by this container's main process."""
    return check(main_process_argv(), os.environ)


if __name__ == "__main__":
    sys.exit(main())
