#!/usr/bin/env bash
# Runs esurat on this machine: installs the Debian packages it needs, builds it, and serves the
# API on http://127.0.0.1:8080 with an embedded PostgreSQL cluster under .esurat/pg, loaded
# with the demo Kabupaten on first start. Extra arguments go to `esurat serve`
# (see `esurat serve --help`).
source "$(dirname "$0")/common.sh"
esurat_install_packages
cd "$esurat_root"
configuration="${ESURAT_BUILD_CONFIGURATION:-release}"
echo "esurat: building ($configuration; the first build takes several minutes)" >&2
swift build -c "$configuration" --product esurat
exec "$(swift build -c "$configuration" --show-bin-path)/esurat" serve --seed-demo "$@"
