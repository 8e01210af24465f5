#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from the real
# captures: the application payloads tshark finds for each protocol, whole
# frames for `wire`, whole files for `pcap`. The captures stay where they lie
# (../shared/pcaps or $OTWATCH_PCAPS); only derived inputs land in the corpora,
# which .gitignore keeps out of the repository.
#
#   bash fuzz/seed.sh            # then: cargo +nightly fuzz run modbus -- -max_total_time=600
#
# Needs tshark, jq and xxd (Debian: tshark, jq, xxd).
set -euo pipefail
cd "$(dirname "$0")"
pcaps="${OTWATCH_PCAPS:-../../shared/pcaps}"
[ -d "$pcaps" ] || { echo "no captures at $pcaps (set OTWATCH_PCAPS)" >&2; exit 1; }
per_file=${SEED_PER_FILE:-200}

# target → tshark display filter and payload field
declare -A filter=(
    [modbus]="mbtcp" [dnp3]="dnp3" [s7comm]="tpkt" [enip]="enip"
    [iec104]="iec60870_104" [bacnet]="bvlc" [it]="dns or http or dhcp or ftp or telnet"
)

write_hex() { # dir, hex
    local dir=$1 hex=$2 name
    [ -n "$hex" ] || return 0
    name=$(printf '%s' "$hex" | sha1sum | cut -c1-16)
    [ -e "$dir/seed-$name" ] || printf '%s' "$hex" | xxd -r -p > "$dir/seed-$name"
}

mapfile -t files < <(find "$pcaps" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort)
for target in "${!filter[@]}"; do
    dir="corpus/$target"; mkdir -p "$dir"
    before=$(find "$dir" -type f | wc -l)
    for f in "${files[@]}"; do
        tshark -r "$f" -Y "${filter[$target]}" -T fields -e tcp.payload -e udp.payload 2>/dev/null \
            | tr -d '\t:' | head -n "$per_file" \
            | while read -r hex; do write_hex "$dir" "$hex"; done || true
    done
    echo "$target: $(( $(find "$dir" -type f | wc -l) - before )) new seeds"
done

# wire: whole frames (the link layer up), a few per capture.
mkdir -p corpus/wire
for f in "${files[@]}"; do
    tshark -r "$f" -c 50 -T json -x 2>/dev/null \
        | jq -r '.[]._source.layers.frame_raw[0] // empty' 2>/dev/null \
        | while read -r hex; do write_hex corpus/wire "$hex"; done || true
done
echo "wire: $(find corpus/wire -type f | wc -l) seeds"

# pcap: the smaller capture files whole (the intake reads files).
mkdir -p corpus/pcap
for f in "${files[@]}"; do
    if [ "$(stat -c %s "$f")" -le 262144 ]; then cp "$f" "corpus/pcap/seed-$(basename "$f")"; fi
done
echo "pcap: $(find corpus/pcap -type f | wc -l) seeds"
