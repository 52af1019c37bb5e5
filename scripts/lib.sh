# Shared helpers for scripts/run and scripts/test. Source it; do not run it.

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The PostgreSQL server binaries (initdb, postgres) must be on PATH or in Debian's versioned
# folders; install Debian's package when they are missing. Running as root also needs the
# `postgres` account, which the package creates.
ensure_postgres() {
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ] || id postgres >/dev/null 2>&1; then
      return 0
    fi
  fi
  echo "==> installing PostgreSQL (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
}

# openssl-sys builds against the system OpenSSL.
ensure_build_deps() {
  if ! pkg-config --exists openssl 2>/dev/null; then
    echo "==> installing OpenSSL headers and pkg-config (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libssl-dev pkg-config >/dev/null
  fi
}

# The web pages' tests drive Debian's Chromium over WebDriver (its own chromedriver).
# axe-core (npm, the committed lock file) checks each key page's accessibility in that browser.
ensure_browser() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "==> installing Chromium and its WebDriver for the browser tests (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  if [ ! -f scripts/browser/node_modules/axe-core/axe.min.js ]; then
    echo "==> installing axe-core from npm into scripts/browser/node_modules"
    (cd scripts/browser && npm ci --no-audit --no-fund --silent)
  fi
}

# The mail tests start a real SMTP server: scripts/smtp-sink, on Python's aiosmtpd (Debian's
# package, for the system Python; or from PyPI for another python3 on PATH).
ensure_smtp_sink() {
  # The sink that requires a login offers STARTTLS with a certificate made by `openssl`.
  if ! command -v openssl >/dev/null 2>&1; then
    echo "==> installing openssl for the mail tests (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openssl >/dev/null
  fi
  if python3 -c 'import aiosmtpd' 2>/dev/null || /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    return 0
  fi
  echo "==> installing aiosmtpd for the mail tests (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-aiosmtpd >/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
}

ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust (https://rustup.rs) first" >&2
    exit 1
  fi
}
