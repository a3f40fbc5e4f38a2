#!/usr/bin/env bash
# Build the one-folder desktop bundle (dist/cobbdesk/) and smoke-test it headless.
#   bash packaging/build_bundle.sh
# Linux here; on Windows/macOS run the same two steps in the project's venv:
#   pip install pyinstaller && pyinstaller --noconfirm packaging/cobbdesk.spec
#   dist/cobbdesk/cobbdesk --version && dist/cobbdesk/cobbdesk selftest
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="${COBBDESK_VENV:-$here/.venv}"
[ -x "$venv/bin/python" ] || bash packaging/bootstrap.sh test --co -q >/dev/null
"$venv/bin/python" -m pip install -q "pyinstaller>=6.0"
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$here/dist" --workpath "$here/build" packaging/cobbdesk.spec
bundle="$here/dist/cobbdesk"
if find "$bundle" -name '*.dcm' -not -path '*/palettes/*' | grep -q .; then
  echo "build_bundle: DICOM files found in the bundle; test data must never ship" >&2; exit 1
fi
QT_QPA_PLATFORM=offscreen "$bundle/cobbdesk" --version
QT_QPA_PLATFORM=offscreen "$bundle/cobbdesk" selftest --output "$(mktemp -d)"
echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1))"
