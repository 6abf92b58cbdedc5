"""Start several real `phoenix serve` at the cost of importing Phoenix once (run by the Phoenix venv's python).

    python phoenix_launcher.py '{"log": "/tmp/a.log", "env": {"PHOENIX_PORT": "6006", ...}}' ...

Importing `phoenix.server.main` is about two thirds of a server's start-up CPU (some 15 s on 2 cores); this
process does it once, then forks one child per configuration, which sets its own environment (port, auth,
database, storage limits: Phoenix reads them when it starts serving, not when it is imported) and serves as
`phoenix serve` does, writing to its own log. A SIGTERM stops every child; if one child exits, the others are
stopped and the launcher exits with that child's status, so the tests see one process for all of them.

Only the standard library and Phoenix are importable here: this runs in Phoenix's venv, not projectops'.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys


def serve(config: dict) -> None:
    """In a forked child: this configuration's environment and log, then `phoenix serve`."""
    log = os.open(config["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.environ.update(config["env"])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.argv = ["phoenix", "serve"]
    from phoenix.server.main import main

    main()


def main() -> int:
    configs = [json.loads(arg) for arg in sys.argv[1:]]
    import phoenix.server.main  # noqa: F401  (the expensive part, shared by every child)

    children: list[int] = []
    for config in configs:
        pid = os.fork()
        if pid == 0:
            try:
                serve(config)
            finally:
                os._exit(0)
        children.append(pid)

    def stop(*_: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    _, status = os.wait()  # the first child to end ends them all
    stop()
    for _ in children[1:]:
        try:
            os.wait()
        except ChildProcessError:
            break
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
