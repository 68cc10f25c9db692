#!/bin/sh
# Entry point of the server and client hosts: enroll the agent once with the token the bootstrap
# container created, start the host's unmodified application, run the agent.
#   agent-host.sh server   TCP echo server on 8106 (socat), agent protecting it
#   agent-host.sh client   agent, then the unmodified client (socat) dialling lb:7106 through it
set -eu
role=${1:?usage: agent-host.sh server|client}
agent="node /opt/palisade/dist/apps/agent/src/main.js"
state=/var/lib/palisade-agent
token_file=/srv/palisade/tokens/$role.token

if [ ! -f "$state/agent.crt" ]; then
  # Enrollment is the only step that needs the token; a restarted container keeps its identity.
  $agent enroll "$(cat "$token_file")" --state-dir "$state"
fi

case $role in
  server)
    # The server's reply is its input prefixed with "pong-" (socat's address syntax reserves ':' and ' ').
    socat TCP-LISTEN:8106,reuseaddr,fork 'SYSTEM:sed -u s/^/pong-/' &
    exec $agent run -c /etc/palisade/agent.yaml
    ;;
  client)
    $agent run -c /etc/palisade/agent.yaml &
    agent_pid=$!
    /opt/palisade/docker/scripts/probe.sh /srv/palisade/results/client.tsv \
      'client → lb:7106' 'client → haproxy → server:8106' lb 7106 60
    wait "$agent_pid"
    ;;
  *)
    echo "agent-host.sh: unknown role $role" >&2
    exit 2
    ;;
esac
