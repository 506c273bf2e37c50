"""The node's certificates, service-account keys and kubeconfigs, made with openssl.

Two CAs: the cluster CA (every serving and client certificate) and the front-proxy CA
(the API server's aggregation layer, which metrics-server will need). Keys are ECDSA
P-256: quick to make, accepted by every component. Made once per node directory and
remade when their specification changes or the serving certificate nears expiry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from proc import run, say
from settings import (
    APISERVER_PORT,
    CLUSTER_DOMAIN,
    KUBERNETES_SERVICE_IP,
    NODE_IP,
    NODE_NAME,
    Layout,
)

CA_DAYS = 3650
CERT_DAYS = 825
RENEW_BEFORE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Cert:
    """A leaf certificate: file stem, subject, usage, alternative names and issuing CA."""

    name: str
    subject: str
    usage: str  # serverAuth, clientAuth
    sans: tuple[str, ...] = ()
    ca: str = "ca"


CERTS = (
    Cert(
        "apiserver",
        "/CN=kube-apiserver",
        "serverAuth",
        (
            f"IP:{NODE_IP}",
            "IP:127.0.0.1",
            f"IP:{KUBERNETES_SERVICE_IP}",
            "DNS:localhost",
            "DNS:kubernetes",
            "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc",
            f"DNS:kubernetes.default.svc.{CLUSTER_DOMAIN}",
        ),
    ),
    # The API server's client certificate towards kubelets (logs, exec, port-forward).
    Cert(
        "apiserver-kubelet-client",
        "/O=system:masters/CN=kube-apiserver-kubelet-client",
        "clientAuth",
    ),
    Cert("admin", "/O=system:masters/CN=sreshow-admin", "clientAuth"),
    Cert("controller-manager", "/CN=system:kube-controller-manager", "clientAuth"),
    Cert("scheduler", "/CN=system:kube-scheduler", "clientAuth"),
    Cert("kube-proxy", "/CN=system:kube-proxy", "clientAuth"),
    Cert("kubelet-client", f"/O=system:nodes/CN=system:node:{NODE_NAME}", "clientAuth"),
    # The kubelet's serving certificate, so that the API server can verify it.
    Cert(
        "kubelet-serving",
        f"/CN=system:node:{NODE_NAME}",
        "serverAuth",
        (f"IP:{NODE_IP}", f"DNS:{NODE_NAME}"),
    ),
    Cert("front-proxy-client", "/CN=front-proxy-client", "clientAuth", ca="front-proxy-ca"),
)
CAS = {"ca": "/CN=sreshow-node-ca", "front-proxy-ca": "/CN=sreshow-node-front-proxy-ca"}
# Client certificates for which a kubeconfig is written next to them.
KUBECONFIG_USERS = ("controller-manager", "scheduler", "kube-proxy", "kubelet-client")

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = {usage}
authorityKeyIdentifier = keyid
{sans}
"""


def ensure_pki(layout: Layout) -> None:
    """Make the certificates and kubeconfigs unless current ones are there."""
    spec = _spec_digest()
    stamp = layout.pki / "spec.sha256"
    if stamp.exists() and stamp.read_text().strip() == spec and _fresh(layout.pki):
        return
    say("making certificates and kubeconfigs")
    layout.node_dir.mkdir(parents=True, exist_ok=True)
    partial = layout.node_dir / "pki.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    for ca, subject in CAS.items():
        _make_ca(partial, ca, subject)
    for cert in CERTS:
        _make_cert(partial, cert)
    _key(partial / "sa.key")
    run(["openssl", "pkey", "-in", partial / "sa.key", "-pubout", "-out", partial / "sa.pub"])
    (partial / "spec.sha256").write_text(spec + "\n")
    shutil.rmtree(layout.pki, ignore_errors=True)
    partial.rename(layout.pki)
    for user in KUBECONFIG_USERS:
        _write_component_kubeconfig(layout, user)
    write_admin_kubeconfig(layout)


def component_kubeconfig(layout: Layout, user: str) -> Path:
    return layout.pki / f"{user}.kubeconfig"


def write_admin_kubeconfig(layout: Layout) -> None:
    """The kubeconfig handed out: certificates embedded, so it works wherever it is copied."""
    pki = layout.pki

    def data(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    text = _kubeconfig(
        f"certificate-authority-data: {data('ca.crt')}",
        f"client-certificate-data: {data('admin.crt')}",
        f"client-key-data: {data('admin.key')}",
    )
    partial = layout.kubeconfig.with_suffix(".partial")
    partial.touch(mode=0o600)
    partial.write_text(text)
    partial.replace(layout.kubeconfig)


def _write_component_kubeconfig(layout: Layout, user: str) -> None:
    pki = layout.pki
    path = component_kubeconfig(layout, user)
    path.touch(mode=0o600)
    path.write_text(
        _kubeconfig(
            f"certificate-authority: {pki / 'ca.crt'}",
            f"client-certificate: {pki / (user + '.crt')}",
            f"client-key: {pki / (user + '.key')}",
        )
    )


def _kubeconfig(ca_line: str, cert_line: str, key_line: str) -> str:
    return f"""\
apiVersion: v1
kind: Config
clusters:
  - name: {NODE_NAME}
    cluster:
      server: https://{NODE_IP}:{APISERVER_PORT}
      {ca_line}
users:
  - name: {NODE_NAME}
    user:
      {cert_line}
      {key_line}
contexts:
  - name: {NODE_NAME}
    context:
      cluster: {NODE_NAME}
      user: {NODE_NAME}
current-context: {NODE_NAME}
"""


def _spec_digest() -> str:
    """What the certificates say: a change here (a new SAN, say) remakes them."""
    spec = [CAS, [cert.__dict__ for cert in CERTS], CERT_DAYS, KUBECONFIG_USERS]
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _fresh(pki: Path) -> bool:
    """Whether every file is there and no certificate expires within a week."""
    names = [f"{ca}.crt" for ca in CAS] + [f"{c.name}.crt" for c in CERTS] + ["sa.key", "sa.pub"]
    if not all((pki / name).exists() for name in names):
        return False
    for cert in CERTS:
        result = run(
            [
                "openssl",
                "x509",
                "-noout",
                "-checkend",
                str(RENEW_BEFORE_SECONDS),
                "-in",
                pki / f"{cert.name}.crt",
            ],
            check=False,
        )
        if result.returncode != 0:
            return False
    return True


def _key(path: Path) -> None:
    run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            path,
        ]
    )
    path.chmod(0o600)


def _config(directory: Path, usage: str = "serverAuth", sans: tuple[str, ...] = ()) -> Path:
    path = Path(tempfile.mkstemp(dir=directory, suffix=".cnf")[1])
    san_line = f"subjectAltName = {','.join(sans)}" if sans else ""
    path.write_text(_OPENSSL_CONFIG.format(usage=usage, sans=san_line))
    return path


def _make_ca(pki: Path, name: str, subject: str) -> None:
    _key(pki / f"{name}.key")
    config = _config(pki)
    try:
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-new",
                "-sha256",
                "-key",
                pki / f"{name}.key",
                "-subj",
                subject,
                "-days",
                str(CA_DAYS),
                "-config",
                config,
                "-extensions",
                "ca",
                "-out",
                pki / f"{name}.crt",
            ]
        )
    finally:
        config.unlink()


def _make_cert(pki: Path, cert: Cert) -> None:
    key, csr = pki / f"{cert.name}.key", pki / f"{cert.name}.csr"
    _key(key)
    config = _config(pki, cert.usage, cert.sans)
    try:
        run(
            [
                "openssl",
                "req",
                "-new",
                "-key",
                key,
                "-subj",
                cert.subject,
                "-config",
                config,
                "-out",
                csr,
            ]
        )
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-sha256",
                "-in",
                csr,
                "-CA",
                pki / f"{cert.ca}.crt",
                "-CAkey",
                pki / f"{cert.ca}.key",
                "-set_serial",
                f"0x{secrets.token_hex(16)}",
                "-days",
                str(CERT_DAYS),
                "-extfile",
                config,
                "-extensions",
                "leaf",
                "-out",
                pki / f"{cert.name}.crt",
            ]
        )
    finally:
        config.unlink()
        csr.unlink(missing_ok=True)
