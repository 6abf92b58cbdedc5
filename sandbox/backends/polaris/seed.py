"""Seed data: `demo` (six projects, three regions, deterministic ids), `empty`, and bulk benchmark data.

Demo projects (uid = uuid5 of `polaris-demo/project/<name>`, see `project_id`):

| name              | region       | plan    | state   | storage        | notes                            |
|-------------------|--------------|---------|---------|----------------|----------------------------------|
| analytics-prod    | us-east-1    | a.02    | running | 59 % of 200 GB | deletion + stop protection       |
| clickstream       | us-east-1    | a.01    | running | 92 % of 100 GB | near its limit; the error job    |
| iot-telemetry     | eu-central-1 | a.04    | running | 45 % of 400 GB | deletion protection; kinesis     |
| marketing-sandbox | eu-west-1    | starter | paused  | 13 % of 25 GB  |                                  |
| support-insights  | eu-west-1    | starter | running | 30 % of 25 GB  | a SQL job still running          |
| finance-archive   | eu-central-1 | a.01    | stopped | 0 (stopped)    | data only in deep storage        |
"""

from __future__ import annotations

from typing import Any

from .store import (
    REGIONS,
    Connection,
    Job,
    Project,
    Store,
    Table,
    epoch,
    ingestion_totals,
    iso,
    stable_id,
    user,
)

ALICE = user("alice@acme.example")
BOB = user("bob@acme.example")
CAROL = user("carol@acme.example")
INGEST = user("svc-ingest@acme.example")
GB = 1_000_000_000
SEEDS = ("demo", "empty")


def load(store: Store, seed: str) -> None:
    """Replace all state with the named seed."""
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; use one of {', '.join(SEEDS)}")
    store.clear()
    if seed == "demo":
        demo(store)


def project_id(name: str) -> str:
    return stable_id("polaris-demo", "project", name)


def job_id(project: str, label: str) -> str:
    return stable_id("polaris-demo", project, "job", label)


def _project(
    name: str, region: str, plan: str, state: str, created: str, used: float, deep: float, **kw
) -> Project:
    return Project(
        uid=project_id(name),
        name=name,
        created=epoch(created),
        plan=plan,
        region=region,
        desired_state=state,
        state=state,
        current_bytes=int(used * GB),
        deep_storage_bytes=int(deep * GB),
        **kw,
    )


def _cols(*spec: str) -> list[dict[str, Any]]:
    """Detail columns from `name:type`."""
    return [{"name": s.split(":")[0], "dataType": s.split(":")[1]} for s in spec]


def _agg(*spec: str) -> list[dict[str, Any]]:
    """Aggregate columns from `kind:name:type`."""
    return [{"type": k, "name": n, "dataType": t} for k, n, t in (s.split(":") for s in spec)]


def _table(
    project: Project,
    name: str,
    schema: list[dict[str, Any]],
    rows: int,
    size_gb: float,
    segments: int,
    created: str,
    *,
    kind: str = "detail",
    **kw: Any,
) -> Table:
    ts = epoch(created)
    table = Table(
        id=stable_id("polaris-demo", project.name, "table", name),
        name=name,
        type=kind,
        created=ts,
        created_by=kw.pop("by", ALICE),
        version=kw.pop("version", 1),
        schema=schema,
        modified=ts + 86_400,
        modified_by=ALICE,
        total_rows=rows,
        total_data_size_bytes=int(size_gb * GB),
        segment_count=segments,
        **kw,
    )
    project.tables[name] = table
    return table


def _connection(
    project: Project, name: str, kind: str, created: str, secrets: str | None, **props: Any
) -> None:
    ts = epoch(created)
    test_error = props.pop("test_error", None)
    description = props.pop("description", None)
    project.connections[name] = Connection(
        name=name,
        type=kind,
        props=props,
        created=ts,
        created_by=BOB,
        modified=ts,
        modified_by=BOB,
        description=description,
        secrets_type=secrets,
        test_error=test_error,
    )


def _job(
    project: Project,
    label: str,
    spec: dict[str, Any],
    status: str,
    created: str,
    *,
    health: dict[str, Any] | None = None,
    totals: dict[str, int] | None = None,
    progress: float = 0.0,
    duration: float = 1800,
    by: dict[str, str] = INGEST,
    extra_logs: list[tuple[float, str, str | None, str]] = (),  # type: ignore[assignment]
) -> Job:
    ts = epoch(created)
    table = spec.get("target", {}).get("tableName")
    if spec["type"] == "sql":
        table = spec.pop("_table")
    done = status in ("completed", "failed", "canceled")
    job = Job(
        id=job_id(project.name, label),
        type=spec["type"],
        spec=spec,
        target_table=table,
        created=ts,
        created_by=by,
        execution_status=status,
        desired_execution_status="canceled" if status == "canceled" else "running",
        health=health or {"status": "ok"},
        last_updated=ts + (duration if done else 60),
        last_modified_by=by,
        started=ts + 30,
        completed=ts + duration if done else None,
        totals=totals or {},
        progress=1.0 if status == "completed" else progress,
        frozen=True,
    )
    logs = [
        (0.0, "ok", "job_created", f"Job created by {by['username']}."),
        (30.0, "ok", "job_running", "Job started running."),
        *extra_logs,
    ]
    if status == "completed":
        logs.append((duration, "ok", "job_completed", "Job completed."))
    elif status == "canceled":
        logs.append((duration, "ok", "job_canceled", f"Job canceled by {by['username']}."))
    for offset, level, code, message in sorted(logs, key=lambda entry: entry[0]):
        entry = {"timestamp": iso(ts + offset), "healthStatus": level, "message": message}
        if code:
            entry["code"] = code
        job.logs.append(entry)
    if "log" in job.health:
        job.health["log"] = [e for e in job.logs if e["healthStatus"] == job.health["status"]][-1]
    project.jobs[job.id] = job
    return job


def _stream(connection: str, table: str, point: str = "latest") -> dict[str, Any]:
    return {
        "type": "streaming",
        "source": {
            "type": "connection",
            "connectionName": connection,
            "formatSettings": {"format": "nd-json"},
        },
        "target": {"type": "table", "tableName": table},
        "readFromPoint": point,
        "useSchemaDiscovery": True,
        "mappings": [{"columnName": "__time", "expression": 'TIME_PARSE("timestamp")'}],
    }


def _batch(connection: str, table: str, prefix: str, source_type: str = "s3") -> dict[str, Any]:
    return {
        "type": "batch",
        "source": {
            "type": source_type,
            "connectionName": connection,
            "prefixes": [prefix],
            "formatSettings": {"format": "nd-json"},
            "inputSchema": [{"name": "timestamp", "dataType": "string"}],
        },
        "target": {"type": "table", "tableName": table},
        "ingestionMode": "append",
        "mappings": [{"columnName": "__time", "expression": 'TIME_PARSE("timestamp")'}],
    }


def demo(store: Store) -> None:
    for build in (
        _analytics_prod,
        _clickstream,
        _iot_telemetry,
        _marketing_sandbox,
        _support_insights,
        _finance,
    ):
        store.add_project(build())


def _analytics_prod() -> Project:
    p = _project(
        "analytics-prod",
        "us-east-1",
        "a.02",
        "running",
        "2024-03-04T10:15:22.481Z",
        118.4,
        96.0,
        deletion_protection=True,
        stop_protection=True,
    )
    _table(
        p,
        "events",
        _cols(
            "__time:timestamp",
            "event_type:string",
            "user_id:string",
            "session_id:string",
            "country:string",
            "device:string",
            "revenue:double",
        ),
        1_284_551_902,
        71.3,
        1840,
        "2024-03-04T11:00:00Z",
        clustering_columns=["event_type"],
        discovered=_cols("utm_source:string", "referrer:string"),
    )
    _table(
        p,
        "sessions_daily",
        _agg(
            "dimension:__time:timestamp",
            "dimension:country:string",
            "dimension:device:string",
            "measure:sessions:long",
            "measure:revenue:double",
            "measure:unique_users:HLLSketch",
        ),
        12_880_411,
        3.1,
        96,
        "2024-03-06T09:30:00Z",
        kind="aggregate",
        schema_mode="strict",
        partitioning_granularity="month",
        time_resolution="day",
        version=3,
    )
    _table(
        p,
        "users",
        _cols("__time:timestamp", "user_id:string", "plan:string", "signup_country:string"),
        4_210_334,
        1.9,
        12,
        "2024-03-08T14:00:00Z",
        schema_mode="strict",
        partitioning_granularity="year",
    )
    _connection(
        p,
        "events-kafka",
        "kafka",
        "2024-03-04T10:40:00Z",
        "sasl_scram",
        bootstrapServers="b-1.msk-prod.acme.internal:9096,b-2.msk-prod.acme.internal:9096",
        topicName="web-events",
        description="Production web events (MSK)",
    )
    _connection(
        p,
        "raw-archive-s3",
        "s3",
        "2024-03-04T10:45:00Z",
        "aws_iam",
        bucket="acme-raw-archive",
        prefix="events/",
        awsAssumedRoleArn="arn:aws:iam::123456789012:role/polaris-reader",
    )
    _job(
        p,
        "events-stream",
        _stream("events-kafka", "events"),
        "running",
        "2024-03-05T08:00:00Z",
        totals=ingestion_totals(1_284_551_902, 2_950 * GB, warnings=1_220),
    )
    _job(
        p,
        "events-backfill-2023",
        _batch("raw-archive-s3", "events", "s3://acme-raw-archive/events/2023/"),
        "completed",
        "2024-03-05T09:00:00Z",
        duration=5_400,
        totals=ingestion_totals(512_004_221, 690 * GB),
    )
    _job(
        p,
        "sessions-rollup",
        {
            "type": "sql",
            "_table": "sessions_daily",
            "query": 'REPLACE INTO "sessions_daily" OVERWRITE ALL SELECT TIME_FLOOR(__time, '
            "'P1D') AS __time, country, device, COUNT(*) AS sessions "
            'FROM "events" GROUP BY 1, 2, 3 PARTITIONED BY MONTH',
        },
        "completed",
        "2025-01-12T02:00:00Z",
        duration=900,
        health={"status": "warn", "code": "invalid_rows_found", "log": {}},
        totals=ingestion_totals(12_880_411, 3 * GB, warnings=1_204),
        extra_logs=[(600.0, "warn", "invalid_rows_found", "1,204 rows had a null country and were skipped.")],
    )
    return p


def _clickstream() -> Project:
    p = _project("clickstream", "us-east-1", "a.01", "running", "2024-05-20T16:02:11.093Z", 92.1, 64.0)
    _table(
        p,
        "clicks",
        _cols("__time:timestamp", "page:string", "element:string", "user_id:string", "country:string"),
        2_040_118_773,
        78.9,
        2210,
        "2024-05-20T16:30:00Z",
    )
    _table(
        p,
        "clicks_hourly",
        _agg(
            "dimension:__time:timestamp",
            "dimension:page:string",
            "measure:clicks:long",
            "measure:users:HLLSketch",
        ),
        8_812_004,
        2.4,
        140,
        "2024-05-21T10:00:00Z",
        kind="aggregate",
        time_resolution="hour",
    )
    _table(
        p,
        "bot_traffic",
        _cols("__time:timestamp", "user_agent:string", "ip:string"),
        41_003_118,
        1.8,
        60,
        "2024-06-02T12:00:00Z",
    )
    _connection(
        p,
        "clickstream-confluent",
        "confluent",
        "2024-05-20T16:10:00Z",
        "confluent",
        bootstrapServers="pkc-4nym6.us-east-1.aws.confluent.cloud:9092",
        topicName="clickstream",
    )
    _connection(
        p,
        "clickstream-archive",
        "s3",
        "2024-05-20T16:12:00Z",
        "aws_iam",
        bucket="acme-clickstream-archive",
        awsAssumedRoleArn="arn:aws:iam::123456789012:role/polaris-click",
        test_error="Access denied: role arn:aws:iam::123456789012:role/polaris-click can't list "
        "s3://acme-clickstream-archive/ (check the role's trust policy and bucket policy).",
    )
    _job(
        p,
        "clicks-stream",
        _stream("clickstream-confluent", "clicks"),
        "running",
        "2024-05-20T17:00:00Z",
        health={"status": "warn", "code": "lost_connection_to_source", "log": {}},
        totals=ingestion_totals(2_040_118_773, 4_100 * GB),
        extra_logs=[
            (
                2.0e7,
                "warn",
                "lost_connection_to_source",
                "Lost connection to pkc-4nym6.us-east-1.aws.confluent.cloud:9092; retrying.",
            )
        ],
    )
    _job(
        p,
        "clickstream-backfill-2024-11",
        _batch("clickstream-archive", "clicks", "s3://acme-clickstream-archive/2024/11/"),
        "failed",
        "2025-01-14T03:00:00Z",
        duration=95,
        progress=0.0,
        health={
            "status": "error",
            "code": "could_not_connect_to_source",
            "message": "Access Denied (403) reading s3://acme-clickstream-archive/2024/11/. Check the IAM "
            "role of connection clickstream-archive.",
            "log": {},
        },
        totals=ingestion_totals(0, 0),
        extra_logs=[
            (
                95.0,
                "error",
                "could_not_connect_to_source",
                "Access Denied (403) reading s3://acme-clickstream-archive/2024/11/.",
            )
        ],
    )
    _job(
        p,
        "clicks-hourly-rollup",
        {
            "type": "sql",
            "_table": "clicks_hourly",
            "query": "INSERT INTO \"clicks_hourly\" SELECT TIME_FLOOR(__time, 'PT1H') "
            'AS __time, page, COUNT(*) AS clicks FROM "clicks" '
            "GROUP BY 1, 2 PARTITIONED BY DAY",
        },
        "running",
        "2025-01-15T08:00:00Z",
        progress=0.45,
        totals=ingestion_totals(3_965_401, 1 * GB),
    )
    _job(
        p,
        "bot-traffic-purge-jan",
        {
            "type": "delete_data",
            "target": {"type": "table", "tableName": "bot_traffic", "intervals": ["2024-01-01/2024-02-01"]},
        },
        "completed",
        "2025-01-10T06:00:00Z",
        duration=240,
        by=CAROL,
        totals=ingestion_totals(6_201_877, 0),
    )
    return p


def _iot_telemetry() -> Project:
    p = _project(
        "iot-telemetry",
        "eu-central-1",
        "a.04",
        "running",
        "2024-07-01T07:45:00.000Z",
        181.0,
        240.0,
        deletion_protection=True,
    )
    _table(
        p,
        "device_readings",
        _cols("__time:timestamp", "device_id:string", "metric:string", "value:double"),
        9_812_300_114,
        160.0,
        5120,
        "2024-07-01T08:00:00Z",
        partitioning_granularity="hour",
    )
    _table(
        p,
        "device_readings_5m",
        _agg(
            "dimension:__time:timestamp",
            "dimension:device_id:string",
            "measure:avg_value:double",
            "measure:samples:long",
        ),
        402_114_950,
        12.5,
        700,
        "2024-07-02T08:00:00Z",
        kind="aggregate",
        time_resolution="minute",
    )
    _table(
        p,
        "device_alerts",
        _cols("__time:timestamp", "device_id:string", "severity:string"),
        18_204,
        0.004,
        3,
        "2024-07-03T08:00:00Z",
    )
    _connection(
        p,
        "iot-kinesis",
        "kinesis",
        "2024-07-01T07:50:00Z",
        None,
        stream="iot-readings",
        awsAssumedRoleArn="arn:aws:iam::123456789012:role/polaris-kinesis",
    )
    _job(
        p,
        "readings-stream",
        _stream("iot-kinesis", "device_readings", "earliest"),
        "running",
        "2024-07-01T08:05:00Z",
        totals=ingestion_totals(9_812_300_114, 21_000 * GB),
    )
    _job(
        p,
        "drop-readings-legacy",
        {"type": "drop_table", "target": {"type": "table", "tableName": "device_readings_legacy"}},
        "completed",
        "2024-12-01T09:00:00Z",
        duration=120,
        by=CAROL,
    )
    _job(
        p,
        "alerts-reset",
        {"type": "delete_data", "deleteAll": True, "target": {"type": "table", "tableName": "device_alerts"}},
        "completed",
        "2024-12-15T09:00:00Z",
        duration=60,
        by=CAROL,
        totals=ingestion_totals(2_401_117, 0),
    )
    return p


def _marketing_sandbox() -> Project:
    p = _project("marketing-sandbox", "eu-west-1", "starter", "paused", "2024-09-12T13:20:45.310Z", 3.2, 2.9)
    _table(
        p,
        "campaigns",
        _cols("__time:timestamp", "campaign:string", "channel:string", "budget:double"),
        88_412,
        0.041,
        4,
        "2024-09-12T14:00:00Z",
    )
    _table(
        p,
        "ad_spend",
        _agg(
            "dimension:__time:timestamp",
            "dimension:campaign:string",
            "measure:spend:double",
            "measure:impressions:long",
        ),
        1_204_331,
        0.38,
        18,
        "2024-09-13T10:00:00Z",
        kind="aggregate",
        time_resolution="day",
    )
    _connection(
        p,
        "marketing-uploads",
        "s3",
        "2024-09-12T14:10:00Z",
        "access_key",
        bucket="acme-marketing-drop",
        prefix="exports/",
    )
    _job(
        p,
        "ad-spend-load",
        _batch("marketing-uploads", "ad_spend", "s3://acme-marketing-drop/exports/2024-12/"),
        "completed",
        "2024-12-20T10:00:00Z",
        duration=300,
        by=BOB,
        totals=ingestion_totals(204_331, 0.06 * GB),
    )
    _job(
        p,
        "campaigns-reload",
        _batch("marketing-uploads", "campaigns", "s3://acme-marketing-drop/campaigns/"),
        "canceled",
        "2024-12-21T10:00:00Z",
        duration=45,
        by=BOB,
    )
    return p


def _support_insights() -> Project:
    p = _project("support-insights", "eu-west-1", "starter", "running", "2024-10-02T09:00:00.000Z", 7.6, 5.0)
    _table(
        p,
        "tickets",
        _cols("__time:timestamp", "ticket_id:string", "priority:string", "team:string", "status:string"),
        3_402_118,
        5.1,
        44,
        "2024-10-02T09:30:00Z",
    )
    _table(
        p,
        "csat_scores",
        _cols("__time:timestamp", "ticket_id:string", "score:long"),
        1_120_554,
        0.9,
        12,
        "2024-10-03T09:30:00Z",
    )
    _connection(
        p,
        "zendesk-exports",
        "s3",
        "2024-10-02T09:10:00Z",
        "aws_iam",
        bucket="acme-zendesk-exports",
        awsAssumedRoleArn="arn:aws:iam::123456789012:role/polaris-support",
    )
    _job(
        p,
        "tickets-daily-load",
        _batch("zendesk-exports", "tickets", "s3://acme-zendesk-exports/2025-01-14/"),
        "completed",
        "2025-01-15T01:00:00Z",
        duration=420,
        totals=ingestion_totals(18_441, 0.02 * GB),
    )
    _job(
        p,
        "csat-load",
        {
            "type": "sql",
            "_table": "csat_scores",
            "query": 'INSERT INTO "csat_scores" SELECT * FROM TABLE(EXTERN(...)) PARTITIONED BY DAY',
        },
        "running",
        "2025-01-15T02:00:00Z",
        progress=0.7,
        totals=ingestion_totals(7_002, 0.001 * GB),
    )
    return p


def _finance() -> Project:
    p = _project("finance-archive", "eu-central-1", "a.01", "stopped", "2023-11-30T18:00:00.000Z", 38.0, 41.5)
    _table(
        p,
        "ledger_2023",
        _cols("__time:timestamp", "account:string", "amount:double", "currency:string"),
        88_120_004,
        21.0,
        365,
        "2023-12-01T10:00:00Z",
        partitioning_granularity="month",
    )
    _table(
        p,
        "ledger_2024",
        _cols("__time:timestamp", "account:string", "amount:double", "currency:string"),
        91_455_310,
        17.0,
        366,
        "2024-01-02T10:00:00Z",
        partitioning_granularity="month",
    )
    _connection(
        p,
        "finance-drop",
        "s3",
        "2023-11-30T18:30:00Z",
        "aws_iam",
        bucket="acme-finance",
        prefix="ledger/",
        awsAssumedRoleArn="arn:aws:iam::123456789012:role/polaris-finance",
    )
    _job(
        p,
        "ledger-2024-load",
        _batch("finance-drop", "ledger_2024", "s3://acme-finance/ledger/2024/"),
        "completed",
        "2025-01-02T10:00:00Z",
        duration=3_600,
        by=ALICE,
        totals=ingestion_totals(91_455_310, 17 * GB),
    )
    return p


def bulk(store: Store, projects: int, tables_per_project: int = 3, jobs_per_project: int = 5) -> int:
    """Add many settled projects (ignoring the per-region limit) for benchmarks; returns the count."""
    start = len(store.projects)
    healths = (
        {"status": "ok"},
        {"status": "ok"},
        {"status": "warn", "code": "invalid_rows_found"},
        {"status": "error", "code": "internal_error", "message": "Task failed: worker lost."},
    )
    statuses = ("completed", "completed", "completed", "failed")
    for i in range(projects):
        name = f"bulk-{start + i:05d}"
        p = Project(
            uid=stable_id("polaris-bulk", "project", name),
            name=name,
            created=epoch("2025-01-01T00:00:00Z") + i,
            plan="a.01",
            region=REGIONS[i % 3 * 2],
            current_bytes=(i * 7919 % 100) * GB,
            deep_storage_bytes=(i * 104_729 % 100) * GB,
        )
        for t in range(tables_per_project):
            _table(
                p,
                f"table_{t + 1}",
                _cols("__time:timestamp", "value:double"),
                1_000 * (t + 1),
                0.01,
                t + 1,
                "2025-01-01T00:00:00Z",
                by=INGEST,
            )
        for j in range(jobs_per_project):
            k = (i + j) % len(healths)
            table = f"table_{j % max(tables_per_project, 1) + 1}"
            spec = {
                "type": "batch",
                "target": {"type": "table", "tableName": table},
                "source": {"type": "uploaded", "fileList": [f"{table}-{j}.json"], "inputSchema": []},
            }
            _job(
                p,
                f"job-{j}",
                spec,
                statuses[k],
                "2025-01-02T00:00:00Z",
                health=dict(healths[k]),
                duration=60 + j,
            )
        store.add_project(p)
    return projects
