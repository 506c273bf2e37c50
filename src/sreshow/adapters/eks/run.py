"""What sreshow remembers of an EKS stack it builds, from before the first change until
`down` has destroyed everything:

    <state dir>/eks/run.json     this record (0600)
    <state dir>/eks/terraform/   Terraform's working copy and its state (adapters/terraform)
    <state dir>/eks/kubeconfig   the cluster's kubeconfig (0600), once the apply is done
    <state dir>/eks/kubernetes/  the stack on the cluster (adapters/kubernetes/record)

The record holds the Terraform variables the apply was made with, so a resumed `up`
and `down` pass the same ones (a destroy needs them, and a changed one would plan a
replacement), and when the apply started, for the elapsed cost.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from sreshow.errors import PlatformError
from sreshow.files import write_atomically

RUN_FILE = "run.json"
RUN_ID_BYTES = 3  # six hex digits after the date: unique enough among one account's runs


class EksRun(BaseModel):
    """One build of the stack: who, where, until when, with which variables."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    region: str
    cluster_name: str
    owner: str  # the caller's ARN, as STS gave it
    admin_principal_arn: str
    allowed_cidrs: tuple[str, ...]
    expires_at: str = ""  # RFC 3339, or "" for none
    nodes: int  # the node group's desired size: what the cost line prices
    started_at: float  # Unix time: the first apply began (billing starts about then)
    # Terraform's outputs the later commands need (KEPT_OUTPUTS), once applied.
    outputs: dict[str, str] = {}

    def variables(self) -> dict[str, object]:
        """The Terraform variables of terraform/variables.tf this run sets."""
        return {
            "region": self.region,
            "name": self.cluster_name,
            "run_id": self.run_id,
            "owner": self.owner,
            "expires_at": self.expires_at,
            "admin_principal_arn": self.admin_principal_arn,
            "api_allowed_cidrs": list(self.allowed_cidrs),
            "app_allowed_cidrs": list(self.allowed_cidrs),
        }


def new_run_id(now: float) -> str:
    """`sreshow-20261205-101500-a1b2c3`: sortable, readable in a tag, unique."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
    return f"sreshow-{stamp}-{secrets.token_hex(RUN_ID_BYTES)}"


def expiry_timestamp(ttl_seconds: float | None, now: float) -> str:
    """The `sreshow/expires-at` tag's value for `--ttl` (RFC 3339, UTC), "" without."""
    if ttl_seconds is None:
        return ""
    return datetime.fromtimestamp(now + ttl_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RunFile:
    """`<state dir>/eks/run.json`."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / RUN_FILE

    def read(self) -> EksRun | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return EksRun.model_validate_json(text)
        except ValidationError as e:
            raise PlatformError(
                f"{self.path}: not an eks run record ({e.error_count()} errors); restore it "
                "from a backup, or destroy with `terraform destroy` in the terraform/ next "
                "to it and then remove it"
            ) from None

    def write(self, run: EksRun) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(self.path, run.model_dump_json(indent=2) + "\n")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def since(run: EksRun) -> float:
    """Seconds since the run's apply began."""
    return max(0.0, time.time() - run.started_at)
