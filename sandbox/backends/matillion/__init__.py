"""Matillion Data Productivity Cloud project-provisioning emulator (OAuth token, projects, connections,
environments, repositories), with admin hooks for tests. See `app.py` for routes and decisions.
"""

from sandbox.backends.matillion.app import Config, MatillionState, create_app

__all__ = ["Config", "MatillionState", "create_app"]
