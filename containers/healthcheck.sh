#!/bin/bash
# Container health check without curl or netcat (the runtime images have bash only):
#   healthcheck tcp  HOST:PORT          the port accepts a connection
#   healthcheck http HOST:PORT PATH     GET PATH answers 200
set -euo pipefail
mode=${1:?usage: healthcheck tcp|http HOST:PORT [PATH]}
addr=${2:?usage: healthcheck tcp|http HOST:PORT [PATH]}
host=${addr%:*}
port=${addr##*:}
exec 3<>"/dev/tcp/$host/$port"
case "$mode" in
  tcp) exit 0 ;;
  http)
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "${3:-/health}" "$host" >&3
    read -r -t 5 _ status _ <&3
    [ "$status" = "200" ] ;;
  *) echo "healthcheck: unknown mode $mode" >&2; exit 2 ;;
esac
