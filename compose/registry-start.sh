#!/bin/sh
# Writes the registry's config with its notification endpoint pointing at Hoist, the webhook
# secret taken from the environment, then runs the registry in the foreground (exec: signals
# reach it). The registry shares Hoist's network namespace (docker-compose.yml), so Hoist is
# at 127.0.0.1:8080.
set -eu
: "${HOIST_WEBHOOK_SECRET:?set it in .env}"
config="${TMPDIR:-/tmp}/registry-config.yml"
cat > "$config" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  debug:
    addr: :5001
    prometheus:
      enabled: true
      path: /metrics
notifications:
  endpoints:
    - name: hoist
      url: http://127.0.0.1:8080/webhooks/registry/distribution
      headers:
        Authorization: [Bearer ${HOIST_WEBHOOK_SECRET}]
      timeout: 5s
      threshold: 5
      backoff: 2s
      ignoredmediatypes: [application/octet-stream]
YAML
exec registry serve "$config"
