"""Seeded data: `demo` (organization `acme` with six projects), `empty`, and bulk data for benchmarks."""

from __future__ import annotations

from datetime import timedelta

from .store import EPOCH, Organization, Project, Store, Workspace

SEEDS = ("demo", "empty")
DEMO_ORG = "acme"

# (project id, name, description, auto-destroy duration, execution mode, [(workspace id, name, resources)])
_DEMO_PROJECTS: list[tuple[str, str, str | None, str | None, str, list[tuple[str, str, int]]]] = [
    (
        "prj-mcLVcC6UsaVUfWwt",
        "Default Project",
        None,
        None,
        "remote",
        [("ws-ZicyMwn71uGnE9aw", "legacy-monolith", 42), ("ws-YtHPlAmdK7OgLygv", "scratch", 0)],
    ),
    (
        "prj-0sMkZ9o1CR5IdoEc",
        "platform-core",
        "Shared networking, Kubernetes clusters and DNS.",
        None,
        "remote",
        [
            ("ws-f5ESNEz4rDUmi6CA", "core-network-prod", 118),
            ("ws-E4TNccJcEGFjtsMN", "core-network-staging", 97),
            ("ws-NfuzjIjEJ1pf6R41", "eks-prod", 254),
            ("ws-ygLQi4vgE9QyiSDj", "eks-staging", 203),
            ("ws-Udx91UA8wRs8h2Aj", "dns-zones", 31),
        ],
    ),
    (
        "prj-hB1JZbDHZETROcEw",
        "data-pipelines",
        "Airflow and the warehouse.",
        None,
        "remote",
        [
            ("ws-SF3Fw8ybwttgARMR", "airflow-prod", 64),
            ("ws-gu6tSsT2KE7dWk2p", "airflow-staging", 58),
            ("ws-z3IUxkpjxViWLsOu", "warehouse", 22),
        ],
    ),
    (
        "prj-EIarcnWZLAMssp0x",
        "sandbox-playground",
        "Throwaway experiments; destroyed after a day idle.",
        "24h",
        "remote",
        [],
    ),
    (
        "prj-n8DkPRXJqfiIUTqp",
        "security-baseline",
        "Organization-wide IAM guardrails and audit logging.",
        None,
        "remote",
        [("ws-ugwic9JNN5i6RqfC", "iam-guardrails", 76), ("ws-4YlZoXWzobgT446b", "audit-logging", 19)],
    ),
    (
        "prj-Ay1hzYKH3oTIhFX2",
        "ml-experiments",
        None,
        "14d",
        "local",
        [("ws-5zkEcK9aItW9vRRB", "feature-store", 12)],
    ),
]

# A second organization, so that cross-organization requests can be tested.
_OTHER_ORG = ("globex", "org-7Hq2mXbT0pLr3sVd", "prj-6QyDofxoaPV5jjF8", [("ws-V10Q0n2A7hw8fTpp", "globex-app", 5)])


def load(store: Store, seed: str) -> None:
    """Fill an empty store with `seed` (`demo` or `empty`)."""
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; expected one of {', '.join(SEEDS)}")
    store.add_organization(Organization(DEMO_ORG, "org-ovONOWfPhNPie9qd", "platform@acme.example", EPOCH))
    if seed == "empty":
        # Every real organization has a Default Project, even an empty one.
        store.add_project(Project("prj-mcLVcC6UsaVUfWwt", DEMO_ORG, "Default Project", EPOCH, is_default=True))
        return
    moment = EPOCH
    for prj_id, name, description, duration, mode, workspaces in _DEMO_PROJECTS:
        moment += timedelta(days=3, minutes=17, milliseconds=431)
        store.add_project(
            Project(
                prj_id,
                DEMO_ORG,
                name,
                moment,
                description=description,
                auto_destroy_activity_duration=duration,
                default_execution_mode=mode,
                team_count=1 if name == "Default Project" else 2,
                is_default=name == "Default Project",
            )
        )
        for ws_id, ws_name, resources in workspaces:
            moment += timedelta(hours=5, seconds=13, milliseconds=87)
            store.add_workspace(
                Workspace(
                    ws_id, DEMO_ORG, ws_name, prj_id, moment, moment + timedelta(days=9), resource_count=resources
                )
            )
    org_name, org_id, prj_id, workspaces = _OTHER_ORG
    store.add_organization(Organization(org_name, org_id, "infra@globex.example", EPOCH))
    store.add_project(Project(prj_id, org_name, "Default Project", EPOCH, is_default=True))
    for ws_id, ws_name, resources in workspaces:
        store.add_workspace(Workspace(ws_id, org_name, ws_name, prj_id, EPOCH, EPOCH, resource_count=resources))


def bulk(store: Store, organization: str, projects: int, workspaces_per_project: int) -> dict[str, int]:
    """Add `projects` projects named `bulk-00001`... with `workspaces_per_project` workspaces each."""
    with store.lock:
        if organization not in store.organizations:
            store.add_organization(Organization(organization, store.new_id("org-"), "", EPOCH))
        start = sum(1 for p in store.org_projects(organization) if p.name.startswith("bulk-"))
        moment = store.now()
        for index in range(start + 1, start + projects + 1):
            project = store.add_project(Project(store.new_id("prj-"), organization, f"bulk-{index:05d}", moment))
            for ws_index in range(1, workspaces_per_project + 1):
                store.add_workspace(
                    Workspace(
                        store.new_id("ws-"), organization, f"bulk-{index:05d}-ws-{ws_index}", project.id, moment, moment
                    )
                )
        return {
            "projects": len(store.org_projects(organization)),
            "workspaces": len(store.org_workspaces(organization)),
        }
