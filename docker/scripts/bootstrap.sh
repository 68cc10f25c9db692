#!/bin/sh
# One-shot: log in with the lab's admin token, apply the seed examples (the service rewritten for the
# lab's load balancer, the policy as it is), and create one enrollment token per agent host.
set -eu
cd /opt/palisade
export PALISADE_CONFIG=/tmp/palisade/config.json
ns=/aporeto/lbtest3
# A previous run's probe results would let the scenario print a stale table: start clean.
rm -f /srv/palisade/results/*.tsv
palisade login --url "$LAB_CONTROL_PLANE_URL" --token "$PALISADE_ADMIN_TOKEN" --ca /var/lib/palisade/ca.pem
docker/scripts/lab-seed.sh examples/seed-lb-service.yaml lb 198.18.1.10 > /tmp/seed-lb-service.yaml
palisade apply -f /tmp/seed-lb-service.yaml -n "$ns" --create-namespaces
palisade apply -f examples/seed-policy.yaml --create-namespaces
# Tokens are single-use and live 10 minutes; the volume is mounted only here (rw) and into the two agent
# hosts (ro). 0644 because the agents run as root without CAP_DAC_OVERRIDE and cannot read a file
# another uid owns with 0600.
umask 022
for role in server client; do
  palisade enrollment-token create -n "$ns" --tags "app=$role" --ttl 10m > "/srv/palisade/tokens/$role.token.tmp"
  mv "/srv/palisade/tokens/$role.token.tmp" "/srv/palisade/tokens/$role.token"
done
echo "bootstrap: seed applied in $ns, enrollment tokens written"
