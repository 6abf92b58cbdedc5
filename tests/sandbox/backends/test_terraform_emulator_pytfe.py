"""The official `pytfe` SDK against the HCP Terraform emulator mounted at /terraform.

pytfe joins request paths onto the last segment of its address (`urljoin`), so it is given
`.../terraform/_` and then requests `.../terraform/api/v2/...`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.terraform import create_app
from sandbox.serving import ServerHandle, serve_in_thread

# pytfe takes about a second to import: the tests import it where they use it, so that only the pytest-xdist
# worker that runs this file pays for it, not every worker that collects the suite.
if TYPE_CHECKING:
    from pytfe import TFEClient

ORG = "acme"
PLATFORM_CORE = "prj-0sMkZ9o1CR5IdoEc"
DATA_PIPELINES = "prj-hB1JZbDHZETROcEw"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    handle = serve_in_thread(Starlette(routes=[Mount("/terraform", app=create_app())]))
    yield handle
    handle.stop()


@pytest.fixture
def admin(server: ServerHandle) -> Iterator[httpx.Client]:
    with loopback.Client(base_url=f"{server.url}/terraform", timeout=10) as http:
        assert http.post("/_admin/reset", json={"seed": "demo"}).status_code == 200
        yield http


def tfe_client(server: ServerHandle, token: str = "tok", max_retries: int = 2) -> TFEClient:
    from pytfe import TFEClient, TFEConfig

    config = TFEConfig(
        address=f"{server.url}/terraform/_",
        token=token,
        http2=False,
        max_retries=max_retries,
        timeout=10,
        ca_bundle=None,
    )
    return TFEClient(config)


def test_list_follows_pages(server: ServerHandle, admin: httpx.Client) -> None:
    from pytfe.models import ProjectListOptions

    admin.post("/_admin/bulk", json={"projects": 120, "workspaces_per_project": 0})
    tfe = tfe_client(server)
    projects = list(tfe.projects.list(ORG))
    assert len(projects) == len({p.id for p in projects}) == 126  # two pages of 100
    core = next(p for p in projects if p.id == PLATFORM_CORE)
    assert (core.name, core.workspace_count, core.organization.id) == ("platform-core", 5, ORG)
    found = list(tfe.projects.list(ORG, ProjectListOptions(name="data-pipelines")))
    assert [p.id for p in found] == [DATA_PIPELINES]
    assert [p.name for p in tfe.projects.list(ORG, ProjectListOptions(query="PLATFORM"))] == ["platform-core"]


def test_create_read_update_delete(server: ServerHandle, admin: httpx.Client) -> None:
    from pytfe.errors import NotFound, TFEError
    from pytfe.models import ProjectCreateOptions, ProjectUpdateOptions

    tfe = tfe_client(server)
    created = tfe.projects.create(
        ORG, ProjectCreateOptions(name="payments", description="Card processing", auto_destroy_activity_duration="14d")
    )
    assert created.id.startswith("prj-") and created.auto_destroy_activity_duration == "14d"
    read = tfe.projects.read(created.id)
    assert (read.name, read.description, read.workspace_count) == ("payments", "Card processing", 0)
    updated = tfe.projects.update(created.id, ProjectUpdateOptions(name="payments-v2", description="v2"))
    assert (updated.name, updated.description) == ("payments-v2", "v2")
    with pytest.raises(TFEError) as invalid:
        tfe.projects.update(created.id, ProjectUpdateOptions(name="platform-core"))
    assert invalid.value.status == 422 and "already been taken" in str(invalid.value)
    tfe.projects.delete(created.id)
    with pytest.raises(NotFound):
        tfe.projects.read(created.id)


def test_move_workspaces_then_delete(server: ServerHandle, admin: httpx.Client) -> None:
    from pytfe.errors import AuthError, TFEError
    from pytfe.models import ProjectCreateOptions, WorkspaceListOptions

    tfe = tfe_client(server)
    target = tfe.projects.create(ORG, ProjectCreateOptions(name="pipelines-2"))
    ws_ids = [w.id for w in tfe.workspaces.list(ORG, WorkspaceListOptions(project_id=DATA_PIPELINES))]
    assert len(ws_ids) == 3
    with pytest.raises(TFEError) as refused:
        tfe.projects.delete(DATA_PIPELINES)
    assert refused.value.status == 409 and "3 workspaces" in str(refused.value)
    with pytest.raises(AuthError):  # 403: one unknown workspace, so nothing moves
        tfe.projects.move_workspaces(target.id, [*ws_ids, "ws-doesNotExist00000"])
    assert tfe.projects.read(target.id).workspace_count == 0
    tfe.projects.move_workspaces(target.id, ws_ids)
    assert tfe.projects.read(target.id).workspace_count == 3
    assert tfe.workspaces.read_by_id(ws_ids[0]).project.id == target.id
    tfe.projects.delete(DATA_PIPELINES)


def test_missing_project_and_missing_permission_raise_not_found(server: ServerHandle, admin: httpx.Client) -> None:
    from pytfe.errors import AuthError, NotFound

    with pytest.raises(NotFound):
        tfe_client(server).projects.read("prj-doesNotExist0000")
    with pytest.raises(NotFound):
        tfe_client(server, token="noperm-viewer").projects.read(PLATFORM_CORE)
    with pytest.raises(AuthError):
        list(tfe_client(server, token="").projects.list(ORG))


def test_persistent_429_raises_rate_limited(server: ServerHandle, admin: httpx.Client) -> None:
    from pytfe.errors import RateLimited

    admin.post("/_faults", json={"status": 429, "count": 50, "retry_after": 0.05})
    with pytest.raises(RateLimited) as limited:
        tfe_client(server, max_retries=2).projects.read(PLATFORM_CORE)
    assert limited.value.retry_after == 0.05
    remaining = admin.post("/_faults", json={}).json()["faults"][0]["count"]
    assert remaining == 47  # one try and two retries
    admin.delete("/_faults")
    assert tfe_client(server).projects.read(PLATFORM_CORE).name == "platform-core"
