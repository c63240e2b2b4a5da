# shellcheck shell=bash
# Sourced helper shared by scripts/setup, scripts/test, scripts/lint and scripts/develop.
#
#   source scripts/_python.sh
#   kasify_ensure_venv          # sets KASIFY_VENV and KASIFY_VENV_PYTHON, puts .venv/bin first on PATH
#
# Finds a Python 3.13 interpreter (in this order: $KASIFY_PYTHON, a working `python3.13` on PATH,
# pyenv's newest 3.13.x), creates .venv with it when missing or when .venv is not a 3.13 venv,
# and (re)installs requirements_test.txt whenever that file changed since the last install
# (its sha256 is kept in .venv/.requirements_test.sha256).

KASIFY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KASIFY_VENV="${KASIFY_ROOT}/.venv"
KASIFY_VENV_PYTHON="${KASIFY_VENV}/bin/python"
KASIFY_REQUIREMENTS="${KASIFY_ROOT}/requirements_test.txt"
KASIFY_STAMP="${KASIFY_VENV}/.requirements_test.sha256"
export KASIFY_ROOT KASIFY_VENV KASIFY_VENV_PYTHON

kasify_log() {
  printf '[kasify] %s\n' "$*" >&2
}

kasify_die() {
  printf '[kasify] ERROR: %s\n' "$*" >&2
  exit 1
}

# Succeeds when "$1" runs and is CPython 3.13 with the venv module (and ensurepip) available.
_kasify_is_python313() {
  "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' \
    >/dev/null 2>&1
}

# Prints the absolute path of a usable Python 3.13 interpreter, or fails with a clear error.
kasify_find_python313() {
  local candidate pyenv_root
  local -a candidates=()

  if [[ -n "${KASIFY_PYTHON:-}" ]]; then
    _kasify_is_python313 "${KASIFY_PYTHON}" \
      || kasify_die "KASIFY_PYTHON=${KASIFY_PYTHON} is not a working Python 3.13 with the venv module"
    "${KASIFY_PYTHON}" -c 'import sys; print(sys.executable)'
    return 0
  fi
  if command -v python3.13 >/dev/null 2>&1; then
    # May be a pyenv shim that only works with PYENV_VERSION set; _kasify_is_python313 runs it.
    candidates+=("$(command -v python3.13)")
  fi
  if command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root 2>/dev/null || true)"
  fi
  pyenv_root="${pyenv_root:-${PYENV_ROOT:-${HOME}/.pyenv}}"
  if [[ -d "${pyenv_root}/versions" ]]; then
    while IFS= read -r candidate; do
      candidates+=("${candidate}")
    done < <(
      find "${pyenv_root}/versions" -mindepth 3 -maxdepth 3 -path '*/3.13.*/bin/python3.13' \
        2>/dev/null | sort -rV
    )
  fi

  for candidate in "${candidates[@]}"; do
    if _kasify_is_python313 "${candidate}"; then
      # Resolve shims to the real interpreter so the venv does not depend on pyenv state.
      "${candidate}" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done

  kasify_die "Python 3.13 not found. Tried: ${candidates[*]:-<nothing>}.
  Install Python 3.13 (with the venv module), put python3.13 on PATH, install it with
  'pyenv install 3.13', or set KASIFY_PYTHON=/path/to/python3.13."
}

_kasify_requirements_hash() {
  sha256sum "${KASIFY_REQUIREMENTS}" | cut -d' ' -f1
}

# Creates/updates .venv as described at the top of this file, then activates it for this shell.
kasify_ensure_venv() {
  local python313 wanted_hash

  [[ -f "${KASIFY_REQUIREMENTS}" ]] || kasify_die "missing ${KASIFY_REQUIREMENTS}"

  if [[ -e "${KASIFY_VENV}" ]] && ! _kasify_is_python313 "${KASIFY_VENV_PYTHON}"; then
    kasify_log "${KASIFY_VENV} is not a working Python 3.13 venv; recreating it"
    rm -rf -- "${KASIFY_VENV}"
  fi

  if [[ ! -e "${KASIFY_VENV}" ]]; then
    python313="$(kasify_find_python313)" || exit 1
    kasify_log "creating ${KASIFY_VENV} with ${python313} ($("${python313}" --version 2>&1))"
    "${python313}" -m venv "${KASIFY_VENV}" || kasify_die "could not create ${KASIFY_VENV}"
  fi

  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
  wanted_hash="$(_kasify_requirements_hash)"
  if [[ ! -f "${KASIFY_STAMP}" ]] || [[ "$(cat "${KASIFY_STAMP}")" != "${wanted_hash}" ]]; then
    kasify_log "installing requirements_test.txt into .venv (a fresh install takes a few minutes)"
    "${KASIFY_VENV_PYTHON}" -m pip install -q --upgrade pip \
      || kasify_die "pip upgrade failed"
    "${KASIFY_VENV_PYTHON}" -m pip install -q -r "${KASIFY_REQUIREMENTS}" \
      || kasify_die "installing requirements_test.txt failed"
    printf '%s\n' "${wanted_hash}" >"${KASIFY_STAMP}"
    kasify_log "requirements installed"
  fi

  export VIRTUAL_ENV="${KASIFY_VENV}"
  export PATH="${KASIFY_VENV}/bin:${PATH}"
  unset PYTHONHOME
}
