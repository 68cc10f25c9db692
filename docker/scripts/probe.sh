#!/bin/sh
# probe.sh OUT FLOW PATH HOST PORT [TRIES]: an unmodified TCP client (socat) sends a marker line to
# HOST:PORT and expects the server's echo of it. Writes one tab-separated line to OUT:
#   FLOW  PATH  VERDICT(Allow|Reject)  DETAIL
# TRIES > 1 retries once a second until the echo comes back (the agents may still be fetching their
# certificates and rule set when the lab starts); a refused flow uses TRIES=1.
set -u
out=$1 flow=$2 path=$3 host=$4 port=$5 tries=${6:-1}
marker="palisade-marker-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
verdict=Reject detail="no echo"
i=0
while [ "$i" -lt "$tries" ]; do
  i=$((i + 1))
  reply=$(printf '%s\n' "$marker" | socat -t3 -T5 - "TCP:$host:$port,connect-timeout=3" 2>&1) && rc=0 || rc=$?
  case $reply in
    *"pong-$marker"*) verdict=Allow detail="echo received"; break ;;
    "") detail="closed without a reply (rc $rc)" ;;
    *) detail="$(printf '%s' "$reply" | head -c 80 | tr '\t\n' '  ')" ;;
  esac
  [ "$i" -lt "$tries" ] && sleep 1
done
printf '%s\t%s\t%s\t%s\n' "$flow" "$path" "$verdict" "$detail" > "$out.tmp" && mv "$out.tmp" "$out"
echo "probe: $flow: $verdict ($detail)"
