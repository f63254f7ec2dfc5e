#!/usr/bin/env bash
# Runs the whole test suite: installs the Debian packages it needs, then `swift test`. The
# integration tests start their own throwaway PostgreSQL cluster and remove it at the end.
source "$(dirname "$0")/common.sh"
# chromium and fonts-liberation: the web UI's browser tests (Playwright drives Debian's chromium).
# poppler-utils (pdfsig, pdftotext, pdftoppm), qpdf and libnss3-tools (certutil for pdfsig's
# trust store): the external checks of the signed PDFs, beside PyPI's pyHanko.
esurat_install_packages chromium fonts-liberation poppler-utils qpdf libnss3-tools
esurat_reap_test_clusters
cd "$esurat_root"
swift build --build-tests
status=0
swift test --skip-build "$@" || status=$?
esurat_reap_test_clusters
exit $status
