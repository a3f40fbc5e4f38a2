#!/usr/bin/env bash
# Set up everything CobbDesk needs on a fresh Debian/Ubuntu machine, then run one task.
#   bash packaging/bootstrap.sh demo   -> launch the app on a generated demo study
#   bash packaging/bootstrap.sh test   -> lint, type-check and run the whole test suite
# Idempotent: apt and pip steps are skipped when already satisfied.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
task="${1:-demo}"; shift || true
venv="${COBBDESK_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

# System packages: DCMTK (test fixtures), Qt's runtime libraries (xcb and offscreen platforms), venv.
apt_pkgs=(dcmtk libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
          libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 python3-venv
          pspp   # pspp: the .sav export and Wilcoxon are checked against PSPP
          orthanc orthanc-dicomweb  # the loopback archive of the PACS tests (tests/pacs)
          postgresql)  # server studies (#15): the tests start a throwaway cluster (Unix socket)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "bootstrap: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python environment: reinstalled only when pyproject.toml changes.
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
stamp="$venv/.cobbdesk-stamp"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

case "$task" in
  demo)
    exec cobbdesk --demo "$@" ;;
  test)
    export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
    ruff check cobbdesk tests benchmarks packaging
    mypy
    lint-imports
    exec python -m pytest -n 2 "$@" ;;
  *)
    echo "usage: bash packaging/bootstrap.sh demo|test [args]" >&2; exit 2 ;;
esac
