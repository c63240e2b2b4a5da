# shellcheck shell=bash
# Sourced helper shared by scripts/setup, scripts/test, scripts/lint and scripts/develop.
#
#   source scripts/_python.sh
#   kasify_ensure_venv          # the main venv (.venv): the oldest supported Home Assistant, lint tools;
#                               # sets KASIFY_VENV and KASIFY_VENV_PYTHON, puts .venv/bin first on PATH
#   kasify_ensure_newest_venv   # .venv-newest: the newest Home Assistant that installs on the newest Python
#                               # found; sets KASIFY_NEWEST_PYTHON
#   kasify_ensure_clean_venv    # .venv-clean: only homeassistant (the oldest supported) and the manifest's
#                               # requirements, as a user's install has; sets KASIFY_CLEAN_PYTHON
#
# Pythons: the main and clean venvs need CPython 3.13 (Home Assistant 2025.4 does not install on newer ones):
# $KASIFY_PYTHON, a working `python3.13` on PATH, or pyenv's newest 3.13.x. The newest venv takes the newest
# CPython >= 3.13 found ($KASIFY_NEWEST_BASE_PYTHON, python3.N on PATH, pyenv's versions): with 3.14.2 or newer it
# gets the newest Home Assistant release, with 3.13 the newest one that still runs there (see
# requirements_test_newest.txt).
#
# Each venv is (re)created when missing or built with another Python, and its requirements are (re)installed
# whenever they changed since the last install (a stamp file in the venv holds their sha256).

KASIFY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KASIFY_VENV="${KASIFY_ROOT}/.venv"
KASIFY_VENV_PYTHON="${KASIFY_VENV}/bin/python"
KASIFY_REQUIREMENTS="${KASIFY_ROOT}/requirements_test.txt"
KASIFY_NEWEST_VENV="${KASIFY_ROOT}/.venv-newest"
KASIFY_NEWEST_PYTHON="${KASIFY_NEWEST_VENV}/bin/python"
KASIFY_NEWEST_REQUIREMENTS="${KASIFY_ROOT}/requirements_test_newest.txt"
KASIFY_CLEAN_VENV="${KASIFY_ROOT}/.venv-clean"
KASIFY_CLEAN_PYTHON="${KASIFY_CLEAN_VENV}/bin/python"
KASIFY_MANIFEST="${KASIFY_ROOT}/custom_components/kasify/manifest.json"
export KASIFY_ROOT KASIFY_VENV KASIFY_VENV_PYTHON KASIFY_NEWEST_PYTHON KASIFY_CLEAN_PYTHON

kasify_log() {
  printf '[kasify] %s\n' "$*" >&2
}

kasify_die() {
  printf '[kasify] ERROR: %s\n' "$*" >&2
  exit 1
}

# Prints "MAJOR.MINOR.MICRO" of a working CPython >= 3.13 with the venv module (and ensurepip); fails otherwise.
_kasify_python_version() {
  "$1" -c 'import sys, venv, ensurepip
assert sys.implementation.name == "cpython" and sys.version_info >= (3, 13)
print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null
}

# Every candidate interpreter: the given override, python3.N on PATH, pyenv's versions.
_kasify_candidates() {
  local override="$1" name pyenv_root=""
  if [[ -n "${override}" ]]; then
    printf '%s\n' "${override}"
    return 0
  fi
  for name in python3.16 python3.15 python3.14 python3.13 python3; do
    # May be a pyenv shim that only works with PYENV_VERSION set; the version check runs it.
    command -v "${name}" 2>/dev/null || true
  done
  if command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root 2>/dev/null || true)"
  fi
  pyenv_root="${pyenv_root:-${PYENV_ROOT:-${HOME}/.pyenv}}"
  if [[ -d "${pyenv_root}/versions" ]]; then
    find "${pyenv_root}/versions" -mindepth 3 -maxdepth 3 -path '*/3.1[3-9].*/bin/python3.1[3-9]' 2>/dev/null
  fi
}

# kasify_find_python WANT OVERRIDE: prints the absolute path of the best interpreter.
#   WANT=3.13   the newest 3.13.x;   WANT=newest   the newest >= 3.13.
kasify_find_python() {
  local want="$1" override="$2" candidate version best="" best_version="0.0.0"
  local -a tried=()
  while IFS= read -r candidate; do
    [[ -n "${candidate}" ]] || continue
    tried+=("${candidate}")
    version="$(_kasify_python_version "${candidate}")" || continue
    if [[ "${want}" == "3.13" && "${version}" != 3.13.* ]]; then
      continue
    fi
    if [[ "$(printf '%s\n%s\n' "${best_version}" "${version}" | sort -V | tail -n 1)" == "${version}" ]] \
      && [[ "${version}" != "${best_version}" ]]; then
      best="${candidate}"
      best_version="${version}"
    fi
  done < <(_kasify_candidates "${override}")
  if [[ -z "${best}" ]]; then
    kasify_die "no Python ${want/newest/>= 3.13} with the venv module found. Tried: ${tried[*]:-<nothing>}.
  Install Python 3.13 (with the venv module), put python3.13 on PATH, install it with
  'pyenv install 3.13', or set KASIFY_PYTHON=/path/to/python3.13."
  fi
  # Resolve shims to the real interpreter so the venv does not depend on pyenv state.
  "${best}" -c 'import sys; print(sys.executable)'
}

# kasify_find_python313: kept for scripts that want the main venv's interpreter.
kasify_find_python313() {
  kasify_find_python 3.13 "${KASIFY_PYTHON:-}"
}

_kasify_hash() {
  cat "$@" | sha256sum | cut -d' ' -f1
}

# _kasify_ensure VENV PYTHON STAMP_TEXT -- PIP_INSTALL_ARGS...
#   (Re)creates VENV with PYTHON when missing or built with another interpreter version, and runs
#   `pip install PIP_INSTALL_ARGS` when STAMP_TEXT differs from the last successful install.
_kasify_ensure() {
  local venv="$1" python="$2" stamp_text="$3" stamp wanted have
  shift 4
  stamp="${venv}/.kasify-requirements.sha256"
  wanted="$(_kasify_python_version "${python}")"
  have="$(_kasify_python_version "${venv}/bin/python" || true)"
  if [[ -e "${venv}" && "${have}" != "${wanted}" ]]; then
    kasify_log "${venv} has Python ${have:-<broken>}, not ${wanted}; recreating it"
    rm -rf -- "${venv}"
  fi
  if [[ ! -e "${venv}" ]]; then
    kasify_log "creating ${venv} with ${python} (Python ${wanted})"
    "${python}" -m venv "${venv}" || kasify_die "could not create ${venv}"
  fi
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
  if [[ ! -f "${stamp}" ]] || [[ "$(cat "${stamp}")" != "${stamp_text}" ]]; then
    kasify_log "installing into ${venv##*/} (a fresh install takes a few minutes)"
    "${venv}/bin/python" -m pip install -q --upgrade pip || kasify_die "pip upgrade failed in ${venv}"
    "${venv}/bin/python" -m pip install -q "$@" || kasify_die "installing into ${venv} failed"
    printf '%s\n' "${stamp_text}" >"${stamp}"
    kasify_log "${venv##*/} ready"
  fi
}

# The main venv: oldest supported Home Assistant + test and lint tools; activated for this shell.
kasify_ensure_venv() {
  local python
  [[ -f "${KASIFY_REQUIREMENTS}" ]] || kasify_die "missing ${KASIFY_REQUIREMENTS}"
  python="$(kasify_find_python313)" || exit 1
  _kasify_ensure "${KASIFY_VENV}" "${python}" "$(_kasify_hash "${KASIFY_REQUIREMENTS}")" -- \
    -r "${KASIFY_REQUIREMENTS}"
  export VIRTUAL_ENV="${KASIFY_VENV}"
  export PATH="${KASIFY_VENV}/bin:${PATH}"
  unset PYTHONHOME
}

# The newest venv: the newest Home Assistant that installs on the newest Python found.
kasify_ensure_newest_venv() {
  local python
  [[ -f "${KASIFY_NEWEST_REQUIREMENTS}" ]] || kasify_die "missing ${KASIFY_NEWEST_REQUIREMENTS}"
  python="$(kasify_find_python newest "${KASIFY_NEWEST_BASE_PYTHON:-}")" || exit 1
  # --ignore-requires-python: Home Assistant states a newer micro version of 3.13 than some machines have
  # (3.13.0) although it runs there; the requirements file chooses the release by the Python's version.
  _kasify_ensure "${KASIFY_NEWEST_VENV}" "${python}" "$(_kasify_hash "${KASIFY_NEWEST_REQUIREMENTS}")" -- \
    --ignore-requires-python -r "${KASIFY_NEWEST_REQUIREMENTS}"
}

# The clean venv: what Home Assistant itself installs for a user, no test requirements.
kasify_ensure_clean_venv() {
  local python ha_version frontend
  local -a requirements
  python="$(kasify_find_python313)" || exit 1
  ha_version="$(sed -n 's/^homeassistant==\([0-9.]*\).*/\1/p' "${KASIFY_REQUIREMENTS}")"
  [[ -n "${ha_version}" ]] || kasify_die "requirements_test.txt pins no homeassistant version"
  mapfile -t requirements < <(
    "${python}" -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["requirements"]))' \
      "${KASIFY_MANIFEST}"
  )
  _kasify_ensure "${KASIFY_CLEAN_VENV}" "${python}" \
    "$(printf '%s\n' "homeassistant==${ha_version}" "${requirements[@]}" | sha256sum | cut -d' ' -f1)" -- \
    "homeassistant==${ha_version}" "${requirements[@]}"
  # Home Assistant installs its frontend itself on first start (it will not start without it); the smoke
  # test runs with pip disabled, so it is installed here, at the version the release pins.
  if ! "${KASIFY_CLEAN_PYTHON}" -c 'import hass_frontend' 2>/dev/null; then
    frontend="$("${KASIFY_CLEAN_PYTHON}" -c 'import json, pathlib, homeassistant.components.frontend as f
print(json.loads((pathlib.Path(f.__file__).parent / "manifest.json").read_text())["requirements"][0])')"
    kasify_log "installing ${frontend} into ${KASIFY_CLEAN_VENV##*/}"
    "${KASIFY_CLEAN_PYTHON}" -m pip install -q "${frontend}" || kasify_die "installing ${frontend} failed"
  fi
}
