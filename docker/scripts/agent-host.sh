#!/bin/sh
# Entry point of the server and client hosts: enroll the agent once with the token the bootstrap
# container created, start the host's unmodified application, run the agent.
#   agent-host.sh server|client          the agent (in the agent container: root, group 61106, NET_ADMIN)
#   agent-host.sh server-app|client-app  the unmodified application (its sidecar: user node, no capability)
set -eu
role=${1:?usage: agent-host.sh server|client}
agent="node /opt/palisade/dist/apps/agent/src/main.js"
state=/var/lib/palisade-agent
token_file=/srv/palisade/tokens/$role.token

if [ "$role" = server ] || [ "$role" = client ]; then
 if [ ! -f "$state/agent.crt" ]; then
  # Enrollment is the only step that needs the token; a restarted container keeps its identity.
  $agent enroll "$(cat "$token_file")" --state-dir "$state"
 fi
fi

case $role in
  server-app)
    # The unmodified server, in the agent's network namespace: a reply is its input prefixed with "pong-"
    # (socat's address syntax reserves ':' and ' ').
    exec socat TCP-LISTEN:8106,reuseaddr,fork 'SYSTEM:sed -u s/^/pong-/'
    ;;
  client-app)
    # The unmodified client: it dials lb:7106 like any program would; the agent next door intercepts it.
    exec /opt/palisade/docker/scripts/probe.sh /srv/palisade/results/client.tsv \
      'client → lb:7106' 'client → haproxy → server:8106' lb 7106 60
    ;;
  server | client)
    exec $agent run -c /etc/palisade/agent.yaml
    ;;
  *)
    echo "agent-host.sh: unknown role $role" >&2
    exit 2
    ;;
esac
