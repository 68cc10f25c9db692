#!/bin/sh
# The rogue host: no agent. Once the allowed client has had its answer (so the lab is up), it tries the
# load balancer and the server's 8106 directly, each once, as plaintext.
set -eu
results=/srv/palisade/results
i=0
until [ -f "$results/client.tsv" ] || [ "$i" -ge 180 ]; do i=$((i + 1)); sleep 1; done
probe=/opt/palisade/docker/scripts/probe.sh
$probe "$results/rogue-lb.tsv" 'rogue → lb:7106' 'rogue → haproxy → server:8106' lb 7106 1
$probe "$results/rogue-direct.tsv" 'rogue → server:8106' 'rogue → server:8106 (direct)' 198.18.2.20 8106 1
