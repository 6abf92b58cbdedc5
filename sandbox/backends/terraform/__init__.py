"""In-memory emulator of the HCP Terraform API v2: projects and the workspaces around them.

Mount it (e.g. at `/terraform`); clients call `/api/v2/...` below the mount path. pytfe joins
paths onto the last segment of its address, so give it `http://HOST:PORT/terraform/_`.
Control endpoints: `/_admin/reset|config|bulk` and `/_faults` (see `sandbox.backends.faults`).
"""

from .app import create_app

__all__ = ["create_app"]
