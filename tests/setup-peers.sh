#!/usr/bin/env bash
# Installs the real test peers the test suite talks to (see ../shared/TESTING.md).
# Idempotent: skips what is already present. Needs root (apt) and PyPI/Debian access.
set -euo pipefail
need_apt=()
command -v swaks >/dev/null || need_apt+=(swaks)
{ command -v smtp-sink || test -x /usr/sbin/smtp-sink; } >/dev/null || need_apt+=(postfix)
command -v tshark >/dev/null || need_apt+=(tshark)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-peers: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
py_need=()
python3 -c 'import aiosmtpd' 2>/dev/null || py_need+=(aiosmtpd)
python3 -c 'import messaging.mms' 2>/dev/null || py_need+=(python-messaging)
# moto server: the AWS endpoint (S3, DynamoDB, SQS) of the AWS backend's tests.
{ command -v moto_server && python3 -c 'import moto.server'; } >/dev/null 2>&1 || py_need+=('moto[server]')
if [ ${#py_need[@]} -gt 0 ]; then
  echo "setup-peers: pip install ${py_need[*]}"
  python3 -m pip install -q --disable-pip-version-check "${py_need[@]}"
fi
# Postfix tools live in /usr/sbin.
for t in swaks smtp-sink smtp-source tshark; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "setup-peers: $t still missing" >&2; exit 1; }
done
echo "setup-peers: ok"
