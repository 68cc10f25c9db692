#!/bin/sh
# Prints the seed service document (examples/seed-lb-service.yaml) rewritten for the lab: clients dial the
# lab's load balancer (host name "lb", address 198.18.1.10) instead of the AWS ELB name of the original.
# Everything else — selectors, ports, tags — is applied exactly as the seed has it.
set -eu
src=${1:?usage: lab-seed.sh SEED_FILE [HOST] [IP]}
host=${2:-lb}
ip=${3:-198.18.1.10}
sed -e "s/internal-lbtest3-1743880535\.us-west-1\.elb\.amazonaws\.com/$host/" \
    -e "s/^\( *\)- IPs: \[\]/\1- IPs: [\"$ip\"]/" "$src"
