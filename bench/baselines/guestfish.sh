#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Baseline 3, the heavyweight anchor: the same edits with guestfish, which
# boots a small VM (here without KVM: LIBGUESTFS_BACKEND_SETTINGS=force_tcg)
# and mounts the boot partition in a real kernel. One launch does all edits;
# config.json goes through jq on the host, by guestfish's `!` command.
#
#   guestfish.sh configure IMG HOSTNAME KEY1.pub KEY2.pub RULES SSID PSK LOGO.png
#   guestfish.sh info IMG
set -eu
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}

cmd=$1 img=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case $cmd in
info)
        printf 'cat /device-type.json\ncat /os-release\ncat /config.json\n' |
                guestfish --ro -a "$img" -m /dev/sda1
        ;;
configure)
        host=$1 key1=$2 key2=$3 rules=$4 ssid=$5 psk=$6 logo=$7
        name=$(basename "$rules" .rules)
        # the jq step, run by guestfish between download and upload
        {
                printf '#!/bin/sh\nexec jq --arg host "%s" --rawfile k1 "%s" --rawfile k2 "%s"' \
                        "$host" "$key1" "$key2"
                printf ' --rawfile rule "%s" --arg name "%s"' "$rules" "$name"
                printf ' -f "%s/edit.jq" "%s/in.json"\n' "$tmp" "$tmp"
        } >"$tmp/edit.sh"
        cat >"$tmp/edit.jq" <<'JQ'
.hostname = $host | .persistentLogging = true | .country = "DE" |
.ntpServers = "pool.ntp.org time.google.com" | .dnsServers = "1.1.1.1 8.8.8.8" |
.os.sshKeys = [($k1 | rtrimstr("\n")), ($k2 | rtrimstr("\n"))] |
.os.udevRules[$name] = ($rule | rtrimstr("\n"))
JQ
        printf '[connection]\nid=resin-wifi\nuuid=%s\ntype=wifi\n\n[wifi]\nmode=infrastructure\nssid=%s\n\n[wifi-security]\nauth-alg=open\nkey-mgmt=wpa-psk\npsk=%s\n\n[ipv4]\nmethod=auto\n\n[ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n\n[proxy]\n' \
                "$(cat /proc/sys/kernel/random/uuid)" "$ssid" "$psk" >"$tmp/resin-wifi"
        {
                echo "download /config.json $tmp/in.json"
                echo "! sh $tmp/edit.sh > $tmp/config.json"
                echo "upload $tmp/config.json /config.json"
                echo "upload $tmp/resin-wifi /system-connections/resin-wifi"
                echo "upload $logo /splash/balena-logo.png"
        } | guestfish --rw -a "$img" -m /dev/sda1
        ;;
*)
        echo "usage: $0 info|configure IMG ..." >&2
        exit 2
        ;;
esac
