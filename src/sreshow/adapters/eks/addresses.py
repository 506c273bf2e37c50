"""Who may reach the cluster's API server and the app's load balancer: the presenter's
own public address (/32) unless `SRESHOW_EKS_ALLOWED_CIDRS` says otherwise (a venue's
network, a team's range). Never the whole internet for the API: terraform/ refuses
0.0.0.0/0 there, and so does this, before a plan."""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from collections.abc import Mapping

from sreshow.errors import PlatformError, UsageError
from sreshow.settings import ENV_EKS_ALLOWED_CIDRS

CHECKIP_URL = "https://checkip.amazonaws.com/"  # AWS's own: answers the caller's IPv4
CHECKIP_TIMEOUT_S = 5.0


def allowed_cidrs(env: Mapping[str, str]) -> tuple[str, ...]:
    """The CIDRs `SRESHOW_EKS_ALLOWED_CIDRS` lists, checked; else this machine's public
    IPv4 as a /32 (one HTTPS request to AWS's checkip)."""
    given = env.get(ENV_EKS_ALLOWED_CIDRS, "").strip()
    if given:
        return tuple(_checked(part.strip()) for part in given.split(",") if part.strip())
    return (f"{_public_address()}/32",)


def _checked(text: str) -> str:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as e:
        raise UsageError(
            f"{ENV_EKS_ALLOWED_CIDRS}: {text!r} is not a CIDR ({e}); give e.g. 203.0.113.7/32"
        ) from None
    if network.version != 4 or network.prefixlen == 0:
        raise UsageError(
            f"{ENV_EKS_ALLOWED_CIDRS}: {text} would open the cluster's API to "
            f"{'IPv6' if network.version == 6 else 'the whole internet'}; give IPv4 ranges "
            "narrower than /0, e.g. your address/32"
        )
    return str(network)


def _public_address() -> str:
    fix = f"set {ENV_EKS_ALLOWED_CIDRS} to your public address, e.g. 203.0.113.7/32"
    try:
        with urllib.request.urlopen(CHECKIP_URL, timeout=CHECKIP_TIMEOUT_S) as answer:
            text = answer.read(64).decode("ascii", errors="replace").strip()
    except (urllib.error.URLError, OSError) as e:
        raise PlatformError(f"cannot learn this machine's public address ({e}); {fix}") from e
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise PlatformError(f"{CHECKIP_URL} answered {text!r}, not an address; {fix}") from None
