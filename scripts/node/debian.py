"""Debian packages as image content: which version apt would take, fetched and unpacked.

Nothing is installed on this machine: `apt-get download` fetches the .deb files (apt's
own sources, proxy and keys; no service starts) and `dpkg-deb -x` unpacks them into a
directory an image's layer is made from. `resolve` reads only apt's package lists, so
an image's inputs (the packages' versions and checksums) are known before anything is
downloaded, and an unchanged image costs no download at all.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from images import file_sha256
from proc import NodeError, proxy_env, run, say

# apt drops to the `_apt` user to download and warns when it cannot write the target
# directory (a root-only cache): download as root, as `apt-get download` run by hand does.
APT_OPTIONS = ("-o", "APT::Sandbox::User=root", "-q")


@dataclass(frozen=True)
class Package:
    """One .deb as apt's lists describe it (`apt-get --print-uris download`)."""

    name: str
    version: str  # Debian's, e.g. 0.25.0-1+b4
    filename: str  # e.g. prometheus-alertmanager_0.25.0-1+b4_amd64.deb
    sha256: str

    @property
    def upstream_version(self) -> str:
        """The version without epoch and Debian revision: 1:2.3-4+b1 -> 2.3."""
        return self.version.split(":", 1)[-1].rsplit("-", 1)[0]


def resolve(names: Iterable[str]) -> list[Package]:
    """The version of each package apt would install now, from its lists (no download).

    Without package lists (or with stale ones that lack a package) runs `apt-get update`
    once and asks again.
    """
    names = list(names)
    result = _print_uris(names)
    if result.returncode != 0:
        say("apt cannot find the monitoring images' packages; apt-get update")
        run(["apt-get", *APT_OPTIONS, "update"], timeout=600, env=proxy_env())
        result = _print_uris(names)
    if result.returncode != 0:
        detail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise NodeError(f"apt-get cannot find {' '.join(names)}: {detail}")
    packages = [_parse_uri_line(line) for line in result.stdout.splitlines() if line.strip()]
    missing = set(names) - {p.name for p in packages}
    if missing:
        raise NodeError(f"apt-get did not offer {' '.join(sorted(missing))}")
    return sorted(packages, key=lambda p: names.index(p.name))


def fetch(packages: Iterable[Package], debs_dir: Path) -> dict[str, Path]:
    """Each package's .deb in `debs_dir`, downloaded when missing and checked: name -> file."""
    debs_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for package in packages:
        deb = debs_dir / package.filename
        if not (deb.exists() and file_sha256(deb) == package.sha256):
            say(f"downloading {package.filename}")
            deb.unlink(missing_ok=True)
            run(
                ["apt-get", *APT_OPTIONS, "download", f"{package.name}={package.version}"],
                timeout=600,
                env=proxy_env(),
                cwd=debs_dir,
            )
            if not deb.exists() or file_sha256(deb) != package.sha256:
                raise NodeError(f"{deb} is missing or not what apt's lists describe")
        files[package.name] = deb
    _prune(debs_dir, keep={deb.name for deb in files.values()}, names=files)
    return files


def unpack(deb: Path, target: Path) -> None:
    """The files of a .deb under `target` (no maintainer scripts run)."""
    target.mkdir(parents=True, exist_ok=True)
    run(["dpkg-deb", "--extract", deb, target], timeout=300)


def _print_uris(names: list[str]) -> subprocess.CompletedProcess[str]:
    return run(["apt-get", *APT_OPTIONS, "--print-uris", "download", *names], check=False)


def _parse_uri_line(line: str) -> Package:
    """`'URI' name_version_arch.deb SIZE SHA256:hex` (the version %-escaped in the URI only)."""
    _uri, filename, _size, checksum = shlex.split(line)
    name, version, _arch = filename.removesuffix(".deb").split("_")
    algorithm, _, digest = checksum.partition(":")
    if algorithm != "SHA256":
        raise NodeError(f"apt-get gave no SHA256 for {filename}: {checksum}")
    # Filenames carry an epoch's colon as %3a.
    return Package(name, version.replace("%3a", ":"), filename, digest)


def _prune(debs_dir: Path, keep: set[str], names: Iterable[str]) -> None:
    """Older .debs of these packages (other versions): they are inputs no longer."""
    for name in names:
        for old in debs_dir.glob(f"{name}_*.deb"):
            if old.name not in keep:
                old.unlink()
