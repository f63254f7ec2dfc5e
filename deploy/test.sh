#!/usr/bin/env bash
# Runs the whole test suite: installs the Debian packages it needs, then `swift test`. The
# integration tests start their own throwaway PostgreSQL cluster and remove it at the end.
source "$(dirname "$0")/common.sh"
# chromium and fonts-liberation: the web UI's browser tests (Playwright drives Debian's chromium).
esurat_install_packages chromium fonts-liberation
esurat_reap_test_clusters
cd "$esurat_root"
swift build --build-tests
status=0
swift test --skip-build "$@" || status=$?
esurat_reap_test_clusters
exit $status
