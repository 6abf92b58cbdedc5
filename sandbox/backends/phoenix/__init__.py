"""Arize Phoenix `/v1/projects` emulator, faithful to the real server's observed behaviour.

See `app.py` for the routes, the admin endpoints (`/_admin/...`) and the seeds.
"""

from sandbox.backends.phoenix.app import DEMO_PROJECTS, PhoenixState, create_app, global_id, node_id

__all__ = ["DEMO_PROJECTS", "PhoenixState", "create_app", "global_id", "node_id"]
