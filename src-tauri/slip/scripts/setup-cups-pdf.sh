#!/usr/bin/env bash
# Sets up a real CUPS with a virtual PDF printer for swagat-slip's printing tests.
#
# Idempotent; run as root (re-runs itself with sudo if it can). It:
#   1. installs cups and printer-driver-cups-pdf with apt-get if they are missing,
#   2. makes cups-pdf write its PDFs under /var/spool/cups-pdf/<user>/,
#   3. starts the CUPS scheduler (service/systemctl, or cupsd directly in containers),
#   4. creates the queue (default SwagatPDF, or $1, or $SWAGAT_TEST_PRINTER) on the cups-pdf
#      backend, enabled and accepting jobs.
# Then run the tests with:  SWAGAT_TEST_PRINTER=SwagatPDF cargo test -p swagat-slip
set -euo pipefail

QUEUE="${1:-${SWAGAT_TEST_PRINTER:-SwagatPDF}}"
OUT_DIR=/var/spool/cups-pdf

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -n -E bash "$0" "$QUEUE"
    fi
    echo "setup-cups-pdf.sh: must run as root" >&2
    exit 1
fi

# 1. Packages.
if ! command -v cupsd >/dev/null 2>&1 || ! command -v lpadmin >/dev/null 2>&1 \
    || [ ! -e /usr/lib/cups/backend/cups-pdf ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq cups printer-driver-cups-pdf >/dev/null
fi

# 2. cups-pdf output directory (default is ~/PDF, which depends on the submitting user).
CONF=/etc/cups/cups-pdf.conf
if [ -f "$CONF" ] && ! grep -q "^Out ${OUT_DIR}/\${USER}\$" "$CONF"; then
    sed -i -E "s|^#?Out .*|Out ${OUT_DIR}/\${USER}|" "$CONF"
    grep -q "^Out " "$CONF" || echo "Out ${OUT_DIR}/\${USER}" >>"$CONF"
fi
mkdir -p "$OUT_DIR"

# 3. Scheduler.
running() { LC_ALL=C lpstat -r 2>/dev/null | grep -q "scheduler is running"; }
if ! running; then
    service cups start >/dev/null 2>&1 || systemctl start cups >/dev/null 2>&1 || true
    for _ in $(seq 1 20); do running && break; sleep 0.5; done
fi
if ! running; then
    mkdir -p /run/cups
    cupsd # forks into the background
    for _ in $(seq 1 40); do running && break; sleep 0.5; done
fi
running || { echo "setup-cups-pdf.sh: CUPS scheduler did not start" >&2; exit 1; }

# 4. Queue.
PPD=/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd
if ! LC_ALL=C lpstat -v "$QUEUE" >/dev/null 2>&1; then
    if [ -f "$PPD" ]; then
        lpadmin -p "$QUEUE" -E -v cups-pdf:/ -P "$PPD"
    else
        lpadmin -p "$QUEUE" -E -v cups-pdf:/ -m lsb/usr/cups-pdf/CUPS-PDF_opt.ppd
    fi
fi
cupsenable "$QUEUE"
cupsaccept "$QUEUE"

# 5. A second queue, stopped (as CUPS stops a queue whose printer failed), for the tests that a
#    slip sent to a stopped printer is refused and not counted.
STOPPED="${QUEUE}Stopped"
if ! LC_ALL=C lpstat -v "$STOPPED" >/dev/null 2>&1; then
    if [ -f "$PPD" ]; then
        lpadmin -p "$STOPPED" -E -v cups-pdf:/ -P "$PPD"
    else
        lpadmin -p "$STOPPED" -E -v cups-pdf:/ -m lsb/usr/cups-pdf/CUPS-PDF_opt.ppd
    fi
fi
cupsaccept "$STOPPED"
cupsdisable "$STOPPED"

echo "CUPS queue '$QUEUE' ready; PDFs go to ${OUT_DIR}/<user>/"
echo "export SWAGAT_TEST_PRINTER=$QUEUE"
