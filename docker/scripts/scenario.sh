#!/bin/sh
# One-shot: waits for the probes of the client and the rogue host, asks the control plane which policy
# decides the client's flow (POST /v1/policycheck), prints the table, then the agents and flow reports as
# the API shows them. Exits 0 only if the client was allowed and both rogue flows were refused, so
# `docker compose up --exit-code-from scenario` is a pass/fail check.
set -eu
cd /opt/palisade
results=/srv/palisade/results
ns=/aporeto/lbtest3
export PALISADE_URL="$LAB_CONTROL_PLANE_URL" PALISADE_TOKEN="$PALISADE_ADMIN_TOKEN" PALISADE_CA=/var/lib/palisade/ca.pem

for f in client rogue-lb rogue-direct; do
  i=0
  until [ -f "$results/$f.tsv" ]; do
    i=$((i + 1))
    [ "$i" -le 240 ] || { echo "scenario: no result from $f after 240 s" >&2; exit 1; }
    sleep 1
  done
done

server_tags='$namespace=/aporeto/lbtest3,$identity=processingunit,$type=HostService,hs:name=tcp:8106'
verdict_line=$(palisade check -n "$ns" --subject "\$namespace=$ns,app=client" --object "$server_tags" --port tcp/8106 | head -n1)
client_policy=$(printf '%s' "$verdict_line" | sed -n 's/^Allow by policy \([^ ]*\).*/\1/p')

ok=0
row() { printf '%-22s %-34s %-16s %-8s %s\n' "$1" "$2" "$3" "$4" "$5"; }
echo
row FLOW PATH ENCRYPTED VERDICT 'DECIDING POLICY'
for f in client rogue-lb rogue-direct; do
  IFS="$(printf '\t')" read -r flow path verdict detail < "$results/$f.tsv"
  if [ "$f" = client ]; then
    if [ "$verdict" = Allow ]; then enc='yes (mTLS 1.3)'; else enc='-'; ok=1; fi
    row "$flow" "$path" "$enc" "$verdict" "${client_policy:--}"
  else
    row "$flow" "$path" 'no (plaintext)' "$verdict" "- (no Palisade identity: $detail)"
    [ "$verdict" = Reject ] || ok=1
  fi
done
echo
echo "policy check for the client's flow: $verdict_line"
echo
palisade get agents -n "$ns" || true
echo
palisade get flows -n "$ns" || true
[ "$ok" -eq 0 ] && echo "scenario: as expected" || echo "scenario: UNEXPECTED verdicts" >&2
exit "$ok"
