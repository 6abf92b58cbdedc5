"""In-memory emulator of the Imply Polaris v1 API (projects, and project-scoped tables, jobs, connections).

Built from the Polaris docs and the official `polaris-sdk` wheel's generated operations and models, never
from our own client. Mount `create_app()` at `/polaris`; clients use `http://HOST:PORT/polaris` as base URL.
Control endpoints: `/_faults` (see `sandbox.backends.faults`) and `/_admin/...` (see `admin`).
"""

from .app import create_app
from .seed import job_id, project_id

__all__ = ["create_app", "job_id", "project_id"]
