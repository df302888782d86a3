"""The fixed ARM scopes (subscriptions, resource groups, registries) and their ACR tasks.

Kept apart from generation so docs, tests and the CLI can list scopes without data.
"""

from __future__ import annotations

from dataclasses import dataclass

SUBSCRIPTION_CONTOSO = "6f1c2e7a-93b4-4d2e-8a51-0c7d9e3b4f12"
SUBSCRIPTION_WINGTIP = "d3a94b70-2c5e-4f81-b6e9-7a18c0f52d3e"
EXAMPLE_SUBSCRIPTION = "4385cf00-2d3a-425a-832f-f4285b1c9dce"
EXAMPLE_RESOURCE_GROUP = "myResourceGroup"
EXAMPLE_REGISTRY = "myRegistry"


@dataclass(frozen=True)
class AcrTask:
    """One ACR task and how its runs behave."""

    name: str
    kind: str  # "build" (AutoBuild, pushes images) or "run" (AutoRun, no images)
    triggers: tuple[str, ...]  # subset of "source", "image", "timer"
    median_seconds: float
    spread: float  # log-normal sigma of the duration
    weight: float  # share of the registry's task runs
    repository: str = ""  # output repository for build tasks
    git_url: str = ""
    provider: str = "Github"  # SourceControlType: Github | VisualStudioTeamService
    os: str = "Linux"
    architecture: str = "amd64"
    variant: str | None = None
    cpu: int = 2
    agent_pool: str | None = None
    timeout_seconds: int = 3600
    failure_rate: float = 0.06
    archives_logs: bool = False
    custom_registries: tuple[str, ...] = ()
    # a planted slowdown: runs created `slowdown_days` or less before the anchor take
    # `slowdown_factor` times as long (df.runs.regressions() must find it)
    slowdown_days: float = 0.0
    slowdown_factor: float = 1.0


@dataclass(frozen=True)
class AcrRegistry:
    """A registry in a resource group of a subscription, with its run-id prefix and tasks."""

    subscription_id: str
    resource_group: str
    name: str
    location: str
    run_prefix: str
    share: float  # fraction of the sandbox's acr_runs
    tasks: tuple[AcrTask, ...]
    users: tuple[str, ...]
    trigger_app_id: str

    @property
    def login_server(self) -> str:
        """The registry's login server host name."""
        return f"{self.name}.azurecr.io"

    @property
    def arm_id(self) -> str:
        """The registry's full ARM resource id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerRegistry/registries/{self.name}"
        )

    def scope(self) -> dict[str, str]:
        """The path parameters that address this registry."""
        return {
            "subscriptionId": self.subscription_id,
            "resourceGroupName": self.resource_group,
            "registryName": self.name,
        }


REGISTRIES: tuple[AcrRegistry, ...] = (
    AcrRegistry(
        SUBSCRIPTION_CONTOSO,
        "rg-build-prod",
        "contosobuilds",
        "eastus",
        "ca",
        0.40,
        (
            AcrTask(
                "web-frontend",
                "build",
                ("source",),
                240,
                0.35,
                4,
                "contoso/web-frontend",
                "https://github.com/contoso/web-frontend.git",
                archives_logs=True,
            ),
            AcrTask(
                "api-gateway",
                "build",
                ("source",),
                420,
                0.30,
                3,
                "contoso/api-gateway",
                "https://github.com/contoso/api-gateway.git",
                cpu=4,
            ),
            AcrTask(
                "payments-service",
                "build",
                ("source", "image"),
                600,
                0.40,
                2,
                "contoso/payments",
                "https://github.com/contoso/payments.git",
                agent_pool="contoso-pool-1",
                cpu=4,
                custom_registries=("contosoimages.azurecr.io",),
            ),
            AcrTask(
                "base-image-refresh",
                "build",
                ("image",),
                180,
                0.30,
                1.5,
                "contoso/base/dotnet",
                architecture="arm64",
                variant="v8",
            ),
            AcrTask("nightly-purge", "run", ("timer",), 60, 0.50, 1, timeout_seconds=1800),
        ),
        ("ana.lopez@contoso.com", "ben.okafor@contoso.com", "chen.wei@contoso.com"),
        "3b1e0f6a-7c2d-4a9e-b5f8-1d6c9e2a7b40",
    ),
    AcrRegistry(
        SUBSCRIPTION_CONTOSO,
        "rg-build-prod",
        "fabrikamci",
        "westeurope",
        "cb",
        0.25,
        (
            AcrTask(
                "ci-unit-tests",
                "run",
                ("source",),
                900,
                0.50,
                4,
                git_url="https://dev.azure.com/fabrikam/ci/_git/monorepo",
                provider="VisualStudioTeamService",
                cpu=4,
                agent_pool="fabrikam-ci-pool",
                failure_rate=0.12,
                archives_logs=True,
            ),
            AcrTask(
                "ml-trainer-image",
                "build",
                ("source",),
                1800,
                0.30,
                1,
                "fabrikam/ml-trainer",
                "https://dev.azure.com/fabrikam/ml/_git/trainer",
                provider="VisualStudioTeamService",
                cpu=8,
                timeout_seconds=7200,
            ),
            AcrTask(
                "docs-site",
                "build",
                ("source",),
                90,
                0.40,
                2,
                "fabrikam/docs",
                "https://github.com/fabrikam/docs.git",
            ),
            AcrTask(
                "windows-agent",
                "build",
                ("source", "image"),
                1500,
                0.35,
                1,
                "fabrikam/windows-agent",
                "https://github.com/fabrikam/windows-agent.git",
                os="Windows",
                cpu=4,
            ),
        ),
        ("dana.fischer@fabrikam.com", "emeka.obi@fabrikam.com"),
        "8d4f2a91-0b6e-4c3f-a7d2-5e9b1c0f8a63",
    ),
    AcrRegistry(
        SUBSCRIPTION_CONTOSO,
        "rg-images-shared",
        "tailspinimages",
        "westus2",
        "cc",
        0.20,
        (
            AcrTask(
                "python-base",
                "build",
                ("image", "timer"),
                300,
                0.30,
                2,
                "base/python",
                "https://github.com/tailspin/base-images.git",
            ),
            AcrTask(
                "node-base",
                "build",
                ("image",),
                240,
                0.30,
                2,
                "base/node",
                "https://github.com/tailspin/base-images.git",
            ),
            AcrTask(
                "arm-edge-runtime",
                "build",
                ("source",),
                700,
                0.40,
                1,
                "edge/runtime",
                "https://github.com/tailspin/edge-runtime.git",
                architecture="arm",
                variant="v7",
                archives_logs=True,
            ),
            AcrTask("vuln-scan", "run", ("timer",), 120, 0.60, 2, failure_rate=0.10),
        ),
        ("farah.haddad@tailspintoys.com", "gus.nilsson@tailspintoys.com"),
        "c27a5e13-9f4b-4d08-8e6a-0b3d7f1c9e25",
    ),
    AcrRegistry(
        SUBSCRIPTION_WINGTIP,
        "rg-wingtip-apps",
        "wingtipapps",
        "northeurope",
        "cd",
        0.15,
        (
            AcrTask(
                "mobile-backend",
                "build",
                ("source",),
                360,
                0.35,
                3,
                "wingtip/mobile-backend",
                "https://github.com/wingtip/mobile-backend.git",
                slowdown_days=12.0,
                slowdown_factor=2.0,
            ),
            AcrTask(
                "checkout-worker",
                "build",
                ("source",),
                300,
                0.45,
                2,
                "wingtip/checkout",
                "https://github.com/wingtip/checkout.git",
                failure_rate=0.40,  # flaky: fails at random, passes on a retry
            ),
            AcrTask(
                "db-migrations",
                "run",
                ("source",),
                45,
                0.50,
                1,
                git_url="https://github.com/wingtip/db.git",
                timeout_seconds=900,
            ),
        ),
        ("hana.sato@wingtiptoys.com", "ivan.petrov@wingtiptoys.com"),
        "f05c8b27-4e1d-4b6a-9d3c-7a2e8f1b0c94",
    ),
)


def example_scope() -> dict[str, str]:
    """The scope of the official swagger examples (served verbatim)."""
    return {
        "subscriptionId": EXAMPLE_SUBSCRIPTION,
        "resourceGroupName": EXAMPLE_RESOURCE_GROUP,
        "registryName": EXAMPLE_REGISTRY,
    }


def registry_counts(total: int) -> dict[str, int]:
    """How many of ``total`` runs each generated registry holds (sums to ``total``)."""
    counts: dict[str, int] = {}
    remaining = total
    for index, registry in enumerate(REGISTRIES):
        last = index == len(REGISTRIES) - 1
        count = remaining if last else min(remaining, round(total * registry.share))
        counts[registry.name] = count
        remaining -= count
    return counts
