#!/usr/bin/env bash
# `make demo` until the local platform exists: start the demo app on 127.0.0.1:8000,
# run the README's curl commands against it, and keep it serving while a terminal is
# attached (Ctrl-C stops it). Nothing is left running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

port=8000
state_dir=${SRESHOW_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/sreshow}
token_file=$state_dir/admin-token
log_file=$state_dir/demo-app.log

if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "error: something already listens on 127.0.0.1:$port; stop it and run make demo again" >&2
    exit 2
fi

mkdir -p "$state_dir"
if [ ! -s "$token_file" ]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' >"$token_file")
fi
chmod 600 "$token_file"

SRESHOW_ADMIN_TOKEN_FILE=$token_file POD_NAME=sre-app-demo APP_DRAIN_SECONDS=0 APP_ACCESS_LOG=on \
    .venv/bin/python -m demo_app --host 127.0.0.1 --port "$port" >"$log_file" 2>&1 &
app_pid=$!
stop_app() {
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
}
trap stop_app EXIT
trap 'exit 130' INT TERM

for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/ready" && break
    kill -0 "$app_pid" 2>/dev/null || { echo "error: the demo app exited; see $log_file" >&2; exit 3; }
    sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$port/ready" \
    || { echo "error: the demo app was not ready within 10 s; see $log_file" >&2; exit 3; }

echo "The demo app runs at http://127.0.0.1:$port (log: $log_file)."
echo "Admin token: $token_file (mode 0600, never printed)."

# The tour is the README's "Try it" block, run line by line: the README cannot drift.
bold='' plain=''
[ -t 1 ] && bold=$'\033[1m' plain=$'\033[0m'
sed -n '/<!-- demo:start -->/,/<!-- demo:end -->/p' README.md | grep -v -e '^<!--' -e '^```' |
    while IFS= read -r line; do
        [ "$state_dir" = "$HOME/.local/state/sreshow" ] ||
            line=${line//"~/.local/state/sreshow"/$state_dir}
        case "$line" in
            "") ;;
            "# "*) printf '\n%s%s%s\n' "$bold" "$line" "$plain" ;;
            *) printf '$ %s\n' "$line"; bash -c "$line" </dev/null; echo ;;
        esac
    done

if [ -t 0 ]; then
    echo "The app keeps serving at http://127.0.0.1:$port (API docs at /docs); press Ctrl-C to stop."
    wait "$app_pid"
fi
