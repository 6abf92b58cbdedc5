"""The real `arize-phoenix` server for the contract tests, installed into `.cache/phoenix-venv` once.

    python3 tests/unit/bot/backends/phoenix_install.py

installs it ahead of the tests (`make test` starts this in the background while it installs projectops and runs
the linters, so the tests seldom wait for it); the tests' fixture calls `phoenix_python()`, which waits for an
install under way (a file lock) or makes one. Standard library only: it runs before projectops' venv exists.
Set `PROJECTOPS_PHOENIX_BIN` to use another install's `phoenix` executable instead.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
PHOENIX_VERSION = "20.26.1"
PHOENIX_VENV = REPO / ".cache" / "phoenix-venv"
INSTALL_TIMEOUT = 900


class InstallFailed(RuntimeError):
    pass


def _installed() -> bool:
    marker = PHOENIX_VENV / ".projectops-installed"
    return ((PHOENIX_VENV / "bin" / "phoenix").exists() and marker.exists()
            and marker.read_text().strip() == PHOENIX_VERSION)


def phoenix_python() -> Path:
    """The python of an `arize-phoenix` install: `PROJECTOPS_PHOENIX_BIN`'s, or the cached venv's (installed when
    needed; another process installing it is waited for)."""
    override = os.environ.get("PROJECTOPS_PHOENIX_BIN")
    if override:
        return Path(override).parent / "python"
    python = PHOENIX_VENV / "bin" / "python"
    if _installed():
        return python
    PHOENIX_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(PHOENIX_VENV.parent / "phoenix-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return python
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PHOENIX_VENV)], check=True)
        result = subprocess.run(
            [str(PHOENIX_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
             f"arize-phoenix=={PHOENIX_VERSION}"],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
        )
        if result.returncode != 0 or not (PHOENIX_VENV / "bin" / "phoenix").exists():
            raise InstallFailed(f"could not install arize-phoenix=={PHOENIX_VERSION}:\n{result.stderr[-3000:]}")
        (PHOENIX_VENV / ".projectops-installed").write_text(PHOENIX_VERSION)
    return python


if __name__ == "__main__":
    try:
        print(phoenix_python())
    except (InstallFailed, subprocess.SubprocessError, OSError) as exc:
        sys.exit(str(exc))
