# Shared by run.sh and test.sh: install what esurat needs from Debian when it is missing.
set -euo pipefail

esurat_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

esurat_install_packages() {
    # python3-venv: the archive tests validate exports with PyPI's bagit in a virtualenv.
    # cairo, pango and libqrencode render letters as PDF, in the fonts of fonts-texgyre and
    # fonts-liberation2.
    local wanted=(postgresql libpq-dev libssl-dev pkg-config python3-venv
        libcairo2-dev libpango1.0-dev libqrencode-dev fonts-texgyre fonts-liberation2 "$@")
    local missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
    echo "esurat: installing ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Stops throwaway test clusters whose test process died without cleaning up.
esurat_reap_test_clusters() {
    local dir pid pg_ctl
    pg_ctl="$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)"
    for dir in "${TMPDIR:-/tmp}"/esurat-test-* "${TMPDIR:-/tmp}"/esurat-restart-*; do
        [ -d "$dir" ] || continue
        pid="$(basename "$dir" | cut -d- -f3)"
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
        if [ -n "$pg_ctl" ] && [ -f "$dir/data/postmaster.pid" ]; then
            if [ "$(id -u)" -eq 0 ]; then
                runuser -u postgres -- "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
            else
                "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
            fi
        fi
        rm -rf "$dir"
    done
}
