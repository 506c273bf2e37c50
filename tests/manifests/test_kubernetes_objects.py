"""The Kubernetes objects under manifests/, as `kubectl kustomize` renders them.

The real tools judge the rendered objects (kustomize, kubernetes-validate against the
1.35 schemas, checkov); the assertions after them name what users rely on: the
autoscaler's numbers, the probes, the security context, the mounted configuration.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from sreshow.adapters.manifests import MANIFESTS_DIR
from tests.manifests.rendered import (
    TARGETS,
    Render,
    containers,
    env_of,
    kustomize,
    pod_spec,
    render,
    unhashed,
)
from tests.tools import checkov_findings, require_tool

pytestmark = pytest.mark.manifests

KUBERNETES_VERSION = "1.35.0"
CHECKOV_CONFIG = MANIFESTS_DIR / "checkov.yaml"

# configMapGenerator: ConfigMap name -> the files under manifests/monitoring/ it holds.
GENERATED_CONFIGMAPS = {
    "prometheus-config": ["prometheus/prometheus.yml"],
    "prometheus-rules": [
        "prometheus/rules/sre-app-alerts.rules.yml",
        "prometheus/rules/sre-app-slo.rules.yml",
    ],
    "alertmanager-config": ["alertmanager/alertmanager.yml", "alertmanager/slack.tmpl"],
    "blackbox-config": ["blackbox/blackbox.yml"],
    "grafana-datasources": ["grafana/datasources.yml"],
    "grafana-dashboard-provider": ["grafana/dashboards.yml"],
    "grafana-dashboards": ["grafana/sre-app-dashboard.json"],
}

# The paths the configuration files are written against: (deployment, file) -> source.
MOUNTED_FILES = {
    ("prometheus", "/etc/prometheus/prometheus.yml"): "prometheus-config",
    ("prometheus", "/etc/prometheus/rules/sre-app-alerts.rules.yml"): "prometheus-rules",
    ("prometheus", "/etc/prometheus/rules/sre-app-slo.rules.yml"): "prometheus-rules",
    ("alertmanager", "/etc/alertmanager/alertmanager.yml"): "alertmanager-config",
    ("alertmanager", "/etc/alertmanager/slack.tmpl"): "alertmanager-config",
    ("alertmanager", "/etc/alertmanager/secrets/slack/webhook-url"): "alertmanager-slack",
    ("blackbox-exporter", "/etc/blackbox/blackbox.yml"): "blackbox-config",
    ("grafana", "/etc/grafana/provisioning/datasources/datasources.yml"): "grafana-datasources",
    ("grafana", "/etc/grafana/provisioning/dashboards/dashboards.yml"): (
        "grafana-dashboard-provider"
    ),
    ("grafana", "/var/lib/grafana/dashboards/sre-app-dashboard.json"): "grafana-dashboards",
    ("grafana", "/etc/grafana/secrets/admin/password"): "grafana-admin",
    ("sre-app", "/var/run/secrets/sre-app/admin-token"): "sre-app-admin",
}


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def base() -> Render:
    return render("base")


# --- the real tools ------------------------------------------------------------------


def test_kustomize_renders_offline(target: str) -> None:
    result = kustomize(TARGETS[target])

    assert result.returncode == 0, result.stderr
    assert "kind: Deployment" in result.stdout


def test_every_object_is_valid_for_kubernetes_1_35(target: str) -> None:
    errors = []
    for obj in render(target).objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            # The CLI only warns here; an apiVersion the cluster lacks must fail.
            errors.append(f"{obj['apiVersion']} {obj['kind']}: no such API in 1.35")
        except (kubernetes_validate.ValidationError, kubernetes_validate.InvalidSchemaError) as e:
            errors.append(f"{obj['kind']} {obj['metadata']['name']}: {e.message}")

    assert errors == []


def test_the_validator_rejects_unknown_fields_and_unknown_api_versions() -> None:
    """Guards the test above: strict mode must not let a typo or a made-up API through."""
    typo = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": 80}], "selectr": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="selectr"):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(
            {**typo, "apiVersion": "autoscaling/v9", "kind": "HorizontalPodAutoscaler"},
            KUBERNETES_VERSION,
            strict=True,
        )


@pytest.mark.timeout(300)
def test_checkov_reports_no_failed_check(target: str, tmp_path: Path) -> None:
    checkov = require_tool("checkov")
    rendered = render(target)
    manifest = tmp_path / f"{target}.yaml"
    manifest.write_text(rendered.text, encoding="utf-8")

    result = subprocess.run(
        [checkov, "--config-file", str(CHECKOV_CONFIG), "-f", str(manifest), "-o", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=280,
        check=False,
    )

    failed, summary = checkov_findings(result)
    assert failed == []
    # A file checkov could not read passes every check; make sure it read all of it.
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= len(rendered.objects)


def test_every_checkov_skip_states_its_reason() -> None:
    config = yaml.safe_load(CHECKOV_CONFIG.read_text(encoding="utf-8"))
    lines = CHECKOV_CONFIG.read_text(encoding="utf-8").splitlines()

    unexplained = [
        check
        for check in config["skip-check"]
        if not any(re.fullmatch(rf"\s*- {check} # \S.{{10,}}", line) for line in lines)
    ]
    assert config["skip-check"], "no skips: drop this test rather than the file"
    assert unexplained == []


# --- what users rely on --------------------------------------------------------------


def test_hpa_scales_between_2_and_10_on_cpu_and_memory_with_gentle_scale_down(
    base: Render,
) -> None:
    hpa = base.one("HorizontalPodAutoscaler", "sre-app", "sre-app")

    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "sre-app",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    targets = {
        m["resource"]["name"]: m["resource"]["target"]
        for m in hpa["spec"]["metrics"]
        if m["type"] == "Resource"
    }
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 10},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }
    assert hpa["spec"]["behavior"] == {
        "scaleUp": {"policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]},
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
        },
    }


def test_app_deployment_probes_resources_and_rollout(base: Render) -> None:
    deployment = base.one("Deployment", "sre-app", "sre-app")
    (app,) = deployment["spec"]["template"]["spec"]["containers"]

    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert app["image"] == "ghcr.io/sreshow/sre-app:1.0.0"
    assert app["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert app["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    live, ready = app["livenessProbe"], app["readinessProbe"]
    assert (live["httpGet"], live["periodSeconds"]) == ({"path": "/health", "port": "http"}, 10)
    assert (ready["httpGet"], ready["periodSeconds"]) == ({"path": "/ready", "port": "http"}, 5)
    assert app["env"][0] == {
        "name": "POD_NAME",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
    }
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8000",
        "prometheus.io/path": "/metrics",
    }
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {(c["topologyKey"], c["whenUnsatisfiable"]) for c in spread} == {
        ("kubernetes.io/hostname", "ScheduleAnyway"),
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
    }


def test_app_drains_within_its_termination_grace_period(base: Render) -> None:
    deployment = base.one("Deployment", "sre-app", "sre-app")
    (app,) = pod_spec(deployment)["containers"]
    env = env_of(app)

    pre_stop = app["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain, grace = float(env["APP_DRAIN_SECONDS"]), float(env["APP_GRACE_SECONDS"])
    # The kubelet's grace period covers preStop, then SIGTERM; the app must be gone
    # before SIGKILL, and must stop passing /ready before it stops answering.
    assert pre_stop > 0
    assert 0 < drain < grace
    assert pre_stop + grace < pod_spec(deployment)["terminationGracePeriodSeconds"]


def test_app_runs_locked_down(base: Render) -> None:
    deployment = base.one("Deployment", "sre-app", "sre-app")
    spec = pod_spec(deployment)
    (app,) = spec["containers"]

    assert spec["securityContext"]["runAsNonRoot"] is True
    assert (spec["securityContext"]["runAsUser"], spec["securityContext"]["runAsGroup"]) == (
        1000,
        1000,
    )
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert app["securityContext"]["readOnlyRootFilesystem"] is True
    assert app["securityContext"]["allowPrivilegeEscalation"] is False
    assert app["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    tmp = next(m for m in app["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in next(v for v in spec["volumes"] if v["name"] == tmp["name"])
    assert spec["automountServiceAccountToken"] is False
    account = base.one("ServiceAccount", spec["serviceAccountName"], "sre-app")
    assert account["automountServiceAccountToken"] is False


def test_every_pod_fits_the_restricted_pod_security_profile(base: Render) -> None:
    for namespace in ("sre-app", "monitoring"):
        labels = base.one("Namespace", namespace)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted", namespace
    for workload in base.workloads():
        pod = pod_spec(workload).get("securityContext", {})
        assert pod.get("runAsNonRoot") is True, workload["metadata"]["name"]
        assert pod.get("runAsUser", 0) != 0, workload["metadata"]["name"]
        assert pod.get("seccompProfile") == {"type": "RuntimeDefault"}
        for container in containers(workload):
            context = container.get("securityContext", {})
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not context.get("capabilities", {}).get("add"), where


def test_only_prometheus_gets_an_api_token(base: Render) -> None:
    """What checkov's skipped CKV_K8S_38 would check, minus the one exception."""
    with_token = {
        w["metadata"]["name"]
        for w in base.workloads()
        if pod_spec(w).get("automountServiceAccountToken") is not False
    }
    assert with_token == {"prometheus"}


def test_pdb_keeps_one_app_replica_through_evictions(base: Render) -> None:
    pdb = base.one("PodDisruptionBudget", "sre-app", "sre-app")
    pod_labels = base.one("Deployment", "sre-app", "sre-app")["spec"]["template"]["metadata"]

    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels["labels"].items()


def test_app_ingress_is_denied_except_its_port_and_monitoring(base: Render) -> None:
    policies = {
        p["metadata"]["name"]: p["spec"]
        for p in base.of_kind("NetworkPolicy")
        if p["metadata"]["namespace"] == "sre-app"
    }

    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    allowed = [
        (peer, port["port"])
        for spec in policies.values()
        for rule in spec.get("ingress", [])
        for peer in rule.get("from", [{}])
        for port in rule["ports"]
    ]
    assert ({}, "http") in allowed  # the Service's traffic, on the app port only
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    assert (monitoring, "http") in allowed


def test_generated_configmaps_hold_the_files_and_carry_a_hash(base: Render) -> None:
    configmaps = {unhashed(c["metadata"]["name"]): c for c in base.of_kind("ConfigMap")}

    assert set(configmaps) == set(GENERATED_CONFIGMAPS)
    for name, files in GENERATED_CONFIGMAPS.items():
        configmap = configmaps[name]
        assert configmap["metadata"]["name"] != name, f"{name} lost its hash suffix"
        assert configmap["metadata"]["namespace"] == "monitoring"
        expected = {
            Path(f).name: (MANIFESTS_DIR / "monitoring" / f).read_text(encoding="utf-8")
            for f in files
        }
        assert configmap["data"] == expected, f"{name} differs from its files"


def test_workloads_mount_the_configuration_where_the_files_expect_it(base: Render) -> None:
    seen = {
        (w["metadata"]["name"], path): unhashed(source)
        for w in base.workloads()
        for path, source, _key in base.mounted_files(w)
    }
    hashed = {c["metadata"]["name"] for c in base.of_kind("ConfigMap")}
    referenced = {source for w in base.workloads() for _path, source, _key in base.mounted_files(w)}

    assert MOUNTED_FILES.items() <= seen.items()
    # Every generated ConfigMap is mounted under its hashed name, so a changed file
    # rolls the Deployments that read it.
    assert hashed <= referenced


def test_secrets_come_from_the_cluster_never_from_git(base: Render) -> None:
    grafana = base.one("Deployment", "grafana", "monitoring")
    (container,) = pod_spec(grafana)["containers"]
    env = env_of(container)
    secrets = {
        v["secret"]["secretName"]: v["secret"]
        for w in base.workloads()
        for v in pod_spec(w).get("volumes", [])
        if "secret" in v
    }

    assert base.of_kind("Secret") == []
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/etc/grafana/secrets/admin/password"
    # Without its Secret Grafana must not start (it would fall back to admin/admin), nor
    # the app (it exits on a token file that is not there); Alertmanager runs without
    # its Slack webhook (its projected Secret is optional).
    assert secrets["grafana-admin"].get("optional", False) is False
    assert secrets["sre-app-admin"].get("optional", False) is False


def test_prometheus_keeps_two_days_and_reads_the_cluster_only(base: Render) -> None:
    (prometheus,) = pod_spec(base.one("Deployment", "prometheus", "monitoring"))["containers"]
    role = base.one("ClusterRole", "sreshow-prometheus")

    assert "--storage.tsdb.retention.time=2d" in prometheus["args"]
    assert "--web.enable-lifecycle" in prometheus["args"]
    assert any(a.startswith("--web.external-url=") for a in prometheus["args"])
    verbs = {verb for rule in role["rules"] for verb in rule["verbs"]}
    resources = {r for rule in role["rules"] for r in rule.get("resources", [])}
    assert verbs <= {"get", "list", "watch"}
    assert resources == {"pods", "services", "endpoints", "nodes", "nodes/proxy"}


def test_every_image_is_pinned_to_an_exact_version(target: str) -> None:
    images = {c["image"] for w in render(target).workloads() for c in containers(w)}

    unpinned = [i for i in images if not re.fullmatch(r"[^:@]+:v?\d+\.\d+\.\d+", i)]
    assert len(images) == {"base": 5, "eks": 6}[target]  # eks adds the cluster autoscaler
    assert unpinned == []


def test_eks_overlay_is_the_whole_stack_on_a_nodeport_plus_the_cluster_autoscaler() -> None:
    """terraform/'s load balancer forwards port 80 to the app's fixed NodePort; the
    cluster autoscaler (kube-system) scales the node group terraform/ tags."""

    def identities(r: Render) -> set[tuple[str, str, str]]:
        return {
            (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
            for o in r.objects
        }

    plain, eks = render("base"), render("eks")
    autoscaler = {
        ("ServiceAccount", "kube-system", "cluster-autoscaler"),
        ("ClusterRole", "", "cluster-autoscaler"),
        ("ClusterRoleBinding", "", "cluster-autoscaler"),
        ("Role", "kube-system", "cluster-autoscaler"),
        ("RoleBinding", "kube-system", "cluster-autoscaler"),
        ("Deployment", "kube-system", "cluster-autoscaler"),
        ("NetworkPolicy", "kube-system", "cluster-autoscaler-deny-ingress"),
    }

    assert identities(eks) == identities(plain) | autoscaler
    assert plain.one("Service", "sre-app", "sre-app")["spec"]["type"] == "ClusterIP"
    service = eks.one("Service", "sre-app", "sre-app")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "nodePort": 30080}
    ]
