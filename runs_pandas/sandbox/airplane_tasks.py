"""The fixed Airplane team, users and tasks (with their parameter schemas) the sandbox serves.

Parameter schemas follow the spec's ``Parameter``/``Constraints`` models and between them
use every ``Parameter.type`` and ``component`` value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "tea20221005zk3w9pq"
USERS = (
    "usr20221005zq1x7ba",
    "usr20221107z8mfn2c",
    "usr20230118zr4d0tw",
    "usr20230302zy6hk5e",
    "usr20230415zb2jv9q",
)
API_USER = "usr20230101zsandbx1"  # owner of the sandbox API key; cancels are attributed to it
GROUPS = ("grp20220222zaigy4h2bw3", "grp20221019zopsteam7")
ZONE_ID = "zon20230224zu6zo7yyn65"


def parameter(
    name: str,
    slug: str,
    type_: str,
    desc: str,
    *,
    default: Any = None,
    optional: bool = False,
    options: list[Any] | None = None,
    regex: str | None = None,
    component: str = "",
    params: list[dict[str, Any]] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``Parameter`` object as Airplane returns it in ``GetRunResponse.params``."""
    constraints: dict[str, Any] = {"optional": optional}
    if options is not None:
        constraints["options"] = options
    if regex is not None:
        constraints["regex"] = regex
    result: dict[str, Any] = {
        "name": name,
        "slug": slug,
        "type": type_,
        "desc": desc,
        "component": component,
        "default": default,
        "constraints": constraints,
    }
    if params is not None:
        result["params"] = params
    if values is not None:
        result["values"] = values
    return result


@dataclass(frozen=True)
class AirplaneTask:
    """A task, its schema and how its runs behave."""

    slug: str
    task_id: str
    runtime: str  # "standard" | "workflow"
    timeout: int  # seconds
    weight: float
    median_seconds: float
    failure_rate: float
    private_rate: float
    session_rate: float
    zone_id: str | None
    params: tuple[dict[str, Any], ...]
    resources: dict[str, str] = field(default_factory=dict)
    labels: tuple[tuple[str, str], ...] = ()

    def scope(self) -> dict[str, str]:
        """The request scope (``taskID``/``taskSlug``) that addresses this task's runs."""
        return {"taskID": self.task_id, "taskSlug": self.slug}


TASKS: tuple[AirplaneTask, ...] = (
    AirplaneTask(
        "deploy_service",
        "tsk20230112z4k9dm2x",
        "workflow",
        1800,
        3,
        240,
        0.08,
        0.05,
        0.2,
        ZONE_ID,
        (
            parameter(
                "Service",
                "service",
                "string",
                "Service to deploy.",
                options=["api", "web", "worker", "billing"],
            ),
            parameter(
                "Version",
                "version",
                "string",
                "Release tag, e.g. v1.42.0.",
                regex=r"^v\d+\.\d+\.\d+$",
            ),
            parameter(
                "Environment",
                "environment",
                "string",
                "Target environment.",
                default="staging",
                options=["staging", "production"],
            ),
            parameter("Dry run", "dry_run", "boolean", "Plan only, change nothing.", default=False),
            parameter(
                "Release notes",
                "notes",
                "string",
                "Shown in the deploy log.",
                optional=True,
                component="textarea",
            ),
        ),
        {"k8s_prod": "res20230110zq8j3kd1", "slack": "res20221201zs1ack9p"},
        (("aws-region", "us-west-2"),),
    ),
    AirplaneTask(
        "rotate_keys",
        "tsk20230203zr7tq1vp",
        "standard",
        600,
        1,
        45,
        0.05,
        1.0,
        0.0,
        ZONE_ID,
        (
            parameter(
                "Key",
                "key_name",
                "configvar",
                "Config variable holding the key.",
                options=["STRIPE_API_KEY", "SENDGRID_KEY", "DATADOG_API_KEY"],
            ),
            parameter(
                "Rotate after",
                "rotate_after",
                "datetime",
                "Do not rotate before this.",
                optional=True,
            ),
            parameter(
                "Grace hours", "grace_hours", "integer", "Keep the old key this long.", default=24
            ),
            parameter("Notify owners", "notify", "boolean", "Email the key owners.", default=True),
        ),
        {"vault": "res20221214zv4u1tka"},
        (("env", "prod"), ("aws-region", "us-east-1")),
    ),
    AirplaneTask(
        "backfill_orders",
        "tsk20221118zb3ckw8e",
        "workflow",
        7200,
        1.5,
        1500,
        0.12,
        0.1,
        0.1,
        None,
        (
            parameter("Start date", "start_date", "date", "First day to backfill."),
            parameter("End date", "end_date", "date", "Last day to backfill."),
            parameter("Batch size", "batch_size", "integer", "Rows per transaction.", default=5000),
            parameter(
                "Regions",
                "regions",
                "list",
                "Regions to include.",
                values=parameter(
                    "Region", "region", "string", "A region code.", options=["us", "eu", "apac"]
                ),
            ),
            parameter(
                "Query",
                "query",
                "string",
                "Source query.",
                component="editor-sql",
                default="SELECT * FROM orders WHERE created_at::date BETWEEN :start AND :end",
            ),
        ),
        {"orders_db": "res20221020zp0rd3bs"},
    ),
    AirplaneTask(
        "nightly_report",
        "tsk20220927zn5hx0ga",
        "standard",
        3600,
        2,
        300,
        0.04,
        0.0,
        0.0,
        ZONE_ID,
        (
            parameter("Report date", "report_date", "date", "Day to report on."),
            parameter(
                "Recipients",
                "recipients",
                "string",
                "One e-mail address per line.",
                component="textarea",
            ),
            parameter(
                "Alert threshold", "threshold", "float", "Flag KPIs below this ratio.", default=0.95
            ),
            parameter("Attachment", "attachment", "upload", "Extra CSV to append.", optional=True),
            parameter(
                "Extra context",
                "extra",
                "any",
                "Free-form context for the template.",
                optional=True,
            ),
        ),
        {"warehouse": "res20220901zwh7x2ls", "smtp": "res20220915zsm7p0qa"},
    ),
    AirplaneTask(
        "restart_pods",
        "tsk20230301zp2fv6ys",
        "standard",
        900,
        2.5,
        60,
        0.06,
        0.05,
        0.15,
        ZONE_ID,
        (
            parameter(
                "Namespace",
                "namespace",
                "string",
                "Kubernetes namespace.",
                options=["payments", "search", "checkout", "default"],
            ),
            parameter("Selector", "selector", "map", "Label selector of the pods."),
            parameter(
                "Strategy",
                "strategy",
                "object",
                "How to roll the pods.",
                optional=True,
                params=[
                    parameter(
                        "Max unavailable",
                        "max_unavailable",
                        "integer",
                        "Pods down at once.",
                        default=1,
                    ),
                    parameter(
                        "Drain first", "drain", "boolean", "Evict connections first.", default=True
                    ),
                ],
            ),
            parameter(
                "Reason",
                "reason",
                "string",
                "Why the restart is needed.",
                component="textarea",
                optional=True,
            ),
        ),
        {"k8s_prod": "res20230110zq8j3kd1"},
        (("cluster", "prod-eu-1"),),
    ),
)
