#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Baseline 1: what a CI engineer writes today to customise a balenaOS image
# with sfdisk, mtools and jq. The boot partition is the first one (its offset
# from `sfdisk -J`); nothing is validated; the same edits as balena-img's.
#
#   shell-mtools-jq.sh info IMG
#   shell-mtools-jq.sh get IMG KEY
#   shell-mtools-jq.sh configure IMG HOSTNAME KEY1.pub KEY2.pub RULES SSID PSK LOGO.png
#   shell-mtools-jq.sh splash IMG LOGO.png
set -eu
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null

cmd=$1 img=$2
shift 2
start=$(sfdisk -J "$img" | jq '.partitiontable.partitions[0].start')
boot="$img@@$((start * 512))"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case $cmd in
info)
        mtype -i "$boot" ::device-type.json | jq -r '"Device type: \(.slug) (\(.name), \(.arch))"'
        . /dev/stdin <<EOF
$(mtype -i "$boot" ::os-release)
EOF
        echo "OS version: ${VERSION:-} (meta-balena ${META_BALENA_VERSION:-})"
        mtype -i "$boot" ::config.json | jq -r '"Development mode: \(.developmentMode // false)"'
        ;;
get)
        mtype -i "$boot" ::config.json | jq -r --arg k "$1" '.[$k]'
        ;;
configure)
        host=$1 key1=$2 key2=$3 rules=$4 ssid=$5 psk=$6 logo=$7
        mtype -i "$boot" ::config.json |
                jq --arg host "$host" --rawfile k1 "$key1" --rawfile k2 "$key2" \
                   --rawfile rule "$rules" --arg name "$(basename "$rules" .rules)" '
                        .hostname = $host | .persistentLogging = true | .country = "DE" |
                        .ntpServers = "pool.ntp.org time.google.com" |
                        .dnsServers = "1.1.1.1 8.8.8.8" |
                        .os.sshKeys = [($k1 | rtrimstr("\n")), ($k2 | rtrimstr("\n"))] |
                        .os.udevRules[$name] = ($rule | rtrimstr("\n"))' >"$tmp/config.json"
        cat >"$tmp/resin-wifi" <<EOF
[connection]
id=resin-wifi
uuid=$(cat /proc/sys/kernel/random/uuid)
type=wifi

[wifi]
mode=infrastructure
ssid=$ssid

[wifi-security]
auth-alg=open
key-mgmt=wpa-psk
psk=$psk

[ipv4]
method=auto

[ipv6]
addr-gen-mode=stable-privacy
method=auto

[proxy]
EOF
        mcopy -o -i "$boot" "$tmp/config.json" ::config.json
        mcopy -o -i "$boot" "$tmp/resin-wifi" ::system-connections/resin-wifi
        mcopy -o -i "$boot" "$logo" ::splash/balena-logo.png
        ;;
splash)
        mcopy -o -i "$boot" "$1" ::splash/balena-logo.png
        ;;
*)
        echo "usage: $0 info|get|configure|splash IMG ..." >&2
        exit 2
        ;;
esac
