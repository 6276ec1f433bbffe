#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# configure writes NetworkManager profiles and the proxy files where balenaOS
# reads them (balenaos-spec.md §4): Wi-Fi (WPA, open, hidden) as
# system-connections/resin-wifi, static IPv4/IPv6 Ethernet as balena-ethernet,
# cellular as balena-cellular, --system-connection keyfiles byte for byte under
# their own names, --proxy/--no-proxy as system-proxy/redsocks.conf and no_proxy.
# Read back with mtype and checked with awk (nmcli is not used: NetworkManager
# is not installed here), on mbr-v8 and on gpt-flasher, where everything must
# land on flash-boot. config.json and every byte outside the boot partition stay
# as they were, a second identical run changes nothing, fsck.fat -n is clean.
. "$top_srcdir/tests/lib.sh"

for t in sfdisk jq cksum mtype mdir mlabel fsck.fat awk cmp; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

bin=$BALENA_IMG
unset BALENA_IMG

D=$WORK/in
mkdir "$D"

# ---------------------------------------------------------------- inputs
cat >"$D/office.nmconnection" <<'EOF'
[connection]
id=office
uuid=0b6f3c5e-1d2a-4c8e-9f10-3a7b5c9d2e41
type=wifi
autoconnect-priority=5

[wifi]
mode=infrastructure
ssid=OfficeNet

[wifi-security]
auth-alg=open
key-mgmt=wpa-psk
psk=office-passphrase

[ipv4]
method=auto

[ipv6]
addr-gen-mode=stable-privacy
method=auto
EOF
# no extension, like balena's own resin-wifi; CRLF-free, no final newline
printf '[connection]\nid=lab\ntype=ethernet\ninterface-name=eth1\n\n[ipv4]\nmethod=manual\naddress1=10.20.0.5/16\n\n[ipv6]\nmethod=ignore' >"$D/lab-eth"
cat >"$D/redsocks.conf" <<'EOF'
base {
        log_debug = off;
        log_info = on;
        log = stderr;
        daemon = off;
        redirector = iptables;
}

redsocks {
        type = socks5;
        ip = 192.0.2.10;
        port = 1080;
        local_ip = 127.0.0.1;
        local_port = 12345;
}
EOF
printf '10.1.0.0/16\n192.0.2.7\n203.0.113.0/24\n' >"$D/no_proxy"

# ---------------------------------------------------------------- helpers
# ini FILE GROUP KEY: the value of KEY in [GROUP]; exit 1 when absent
ini() {
        awk -v g="$2" -v k="$3" '
                /^\[.*\]$/ { grp = substr($0, 2, length($0) - 2); next }
                grp == g && index($0, k "=") == 1 { print substr($0, length(k) + 2); found = 1; exit }
                END { exit !found }' "$1"
}
# has_group FILE GROUP
has_group() { grep -qx "\[$2\]" "$1"; }
# expect_ini FILE GROUP KEY VALUE
expect_ini() {
        v=$(ini "$1" "$2" "$3") || fail "$(basename "$1"): no $2.$3: $(cat "$1")"
        expect_eq "$v" "$4" "$(basename "$1"): $2.$3"
}
# keyfile_ok FILE ID TYPE: well-formed keyfile INI (groups, key=value lines, no
# duplicate group or key, no CR), connection.id and .type as given, a UUID
keyfile_ok() {
        awk '
                /\r/ { print "CR on line " NR; bad = 1 }
                /^$/ || /^#/ { next }
                /^\[[a-z0-9-]+\]$/ { if (seen[$0]++) { print "group " $0 " twice"; bad = 1 }
                                      grp = $0; next }
                /^[a-z0-9_.-]+=/ { if (grp == "") { print "key outside a group on line " NR; bad = 1 }
                                   k = grp substr($0, 1, index($0, "="))
                                   if (keys[k]++) { print "key " k " twice"; bad = 1 }
                                   next }
                { print "line " NR " is not INI: " $0; bad = 1 }
                END { exit bad }' "$1" >"$WORK/ini.out" ||
                fail "$(basename "$1") is not a clean keyfile: $(cat "$WORK/ini.out")"
        ok
        expect_ini "$1" connection id "$2"
        expect_ini "$1" connection type "$3"
        u=$(ini "$1" connection uuid) || fail "$(basename "$1"): no connection.uuid"
        echo "$u" | grep -Eqx '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' ||
                fail "$(basename "$1"): connection.uuid '$u' is not a UUID"
        ok
}
# get IMG PATH OUT: a file of the boot partition, read with mtype
get() {
        m mtype "$1" "$boot" "::$2" >"$3" 2>"$WORK/mtype.err" ||
                fail "mtype ::$2: $(cat "$WORK/mtype.err")"
}
# absent IMG PATH: mdir does not find it
absent() {
        ! m mdir "$1" "$boot" -b "::$2" >/dev/null 2>&1 || fail "::$2 exists"
        ok
}
# outside IMG: cksum of every byte that is not in the boot partition
outside() {
        s=$(part_offset "$1" "$boot")
        e=$((s + $(part_size "$1" "$boot")))
        printf '%s %s\n' "$(head -c "$s" "$1" | cksum)" \
                "$(tail -c +"$((e + 1))" "$1" | cksum)"
}
conf() {
        run "$bin" configure "$img" "$@"
        [ "$RC" -eq 0 ] || fail "configure $*: exit $RC: $(head -c 600 "$WORK/stderr")"
        ok
}

for name in mbr-v8 gpt-flasher; do
        echo "# $name" >&2
        img=$(fixture "$name")
        boot=$(fact "$name" boot_part)
        label=$(fact "$name" boot_label)
        expect_eq "$(m mlabel "$img" "$boot" -s :: | sed 's/^ *Volume label is //; s/ *$//')" \
                "$label" "$name: label of partition $boot"
        outside_before=$(outside "$img")
        get "$img" /config.json "$WORK/config.before"
        P=$WORK/$name
        mkdir "$P"

        # --- Wi-Fi, WPA
        conf --wifi-ssid 'My Net' --wifi-key 'correct horse'
        expect_stdout "$label:/system-connections/resin-wifi"
        get "$img" /system-connections/resin-wifi "$P/wpa"
        keyfile_ok "$P/wpa" resin-wifi wifi
        expect_ini "$P/wpa" wifi ssid 'My Net'
        expect_ini "$P/wpa" wifi-security key-mgmt wpa-psk
        expect_ini "$P/wpa" wifi-security psk 'correct horse'
        ! ini "$P/wpa" wifi hidden >/dev/null || expect_ini "$P/wpa" wifi hidden false
        # DHCP unless told otherwise
        expect_ini "$P/wpa" ipv4 method auto
        # a 64-hex-digit key is a raw PSK, kept as it is
        hex=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        conf --wifi-ssid 'My Net' --wifi-key "$hex"
        get "$img" /system-connections/resin-wifi "$P/hex"
        expect_ini "$P/hex" wifi-security psk "$hex"

        # --- Wi-Fi, open: no security at all
        conf --wifi-ssid OpenCafe
        get "$img" /system-connections/resin-wifi "$P/open"
        keyfile_ok "$P/open" resin-wifi wifi
        expect_ini "$P/open" wifi ssid OpenCafe
        ! grep -q '^psk=' "$P/open" || fail "the open network has a psk: $(cat "$P/open")"
        ok
        ! has_group "$P/open" wifi-security || fail "the open network has [wifi-security]: $(cat "$P/open")"
        ok

        # --- Wi-Fi, hidden, with a static address
        conf --wifi-ssid Hidden --wifi-key secret123 --wifi-hidden --static-ip 192.168.7.20/24 \
                --gateway 192.168.7.1
        get "$img" /system-connections/resin-wifi "$P/hidden"
        keyfile_ok "$P/hidden" resin-wifi wifi
        expect_ini "$P/hidden" wifi ssid Hidden
        expect_ini "$P/hidden" wifi hidden true
        expect_ini "$P/hidden" wifi-security key-mgmt wpa-psk
        expect_ini "$P/hidden" wifi-security psk secret123
        expect_ini "$P/hidden" ipv4 method manual
        ini "$P/hidden" ipv4 address1 | grep -q '^192\.168\.7\.20/24' ||
                fail "hidden: ipv4.address1 is not 192.168.7.20/24: $(cat "$P/hidden")"
        ok
        absent "$img" /system-connections/balena-ethernet

        # --- static IPv4 Ethernet
        conf --static-ip 192.168.1.50/24 --gateway 192.168.1.1 --dns 1.1.1.1,8.8.8.8
        expect_stdout "$label:/system-connections/balena-ethernet"
        get "$img" /system-connections/balena-ethernet "$P/eth4"
        keyfile_ok "$P/eth4" balena-ethernet ethernet
        expect_ini "$P/eth4" ipv4 method manual
        a=$(ini "$P/eth4" ipv4 address1) || fail "eth4: no ipv4.address1: $(cat "$P/eth4")"
        expect_eq "${a%%,*}" 192.168.1.50/24 "eth4: the address"
        # the gateway: after the address (address1=IP/N,GW) or as gateway=
        gw=$(ini "$P/eth4" ipv4 gateway) || gw=${a#*,}
        expect_eq "$gw" 192.168.1.1 "eth4: the gateway"
        dns=$(ini "$P/eth4" ipv4 dns) || fail "eth4: no ipv4.dns: $(cat "$P/eth4")"
        expect_eq "$(echo "$dns" | tr ',' ';' | sed 's/;$//')" '1.1.1.1;8.8.8.8' "eth4: DNS"
        # the Wi-Fi profile is still there
        get "$img" /system-connections/resin-wifi "$P/wifi-still"
        cmp -s "$P/wifi-still" "$P/hidden" || fail "resin-wifi changed with the Ethernet profile"
        ok

        # --- static IPv6 Ethernet
        conf --static-ip fd00::50/64 --gateway fd00::1 --dns 2606:4700:4700::1111
        get "$img" /system-connections/balena-ethernet "$P/eth6"
        keyfile_ok "$P/eth6" balena-ethernet ethernet
        expect_ini "$P/eth6" ipv6 method manual
        a=$(ini "$P/eth6" ipv6 address1) || fail "eth6: no ipv6.address1: $(cat "$P/eth6")"
        expect_eq "${a%%,*}" fd00::50/64 "eth6: the address"
        gw=$(ini "$P/eth6" ipv6 gateway) || gw=${a#*,}
        expect_eq "$gw" fd00::1 "eth6: the gateway"
        dns=$(ini "$P/eth6" ipv6 dns) || fail "eth6: no ipv6.dns: $(cat "$P/eth6")"
        expect_eq "${dns%;}" 2606:4700:4700::1111 "eth6: DNS"
        ! grep -q '192\.168\.1\.50' "$P/eth6" || fail "eth6 kept the IPv4 address: $(cat "$P/eth6")"
        ok

        # --- cellular
        conf --apn internet --apn-user u --apn-password p
        expect_stdout "$label:/system-connections/balena-cellular"
        get "$img" /system-connections/balena-cellular "$P/gsm"
        keyfile_ok "$P/gsm" balena-cellular gsm
        expect_ini "$P/gsm" gsm apn internet
        expect_ini "$P/gsm" gsm username u
        expect_ini "$P/gsm" gsm password p

        # --- keyfiles as they are, under their own names
        conf --system-connection "$D/office.nmconnection" --system-connection "$D/lab-eth"
        get "$img" /system-connections/office.nmconnection "$P/office"
        cmp "$P/office" "$D/office.nmconnection" || fail "office.nmconnection is not byte-identical"
        ok
        get "$img" /system-connections/lab-eth "$P/lab"
        cmp "$P/lab" "$D/lab-eth" || fail "lab-eth is not byte-identical"
        ok
        # long names with their case, no 8.3 mangling
        m mdir "$img" "$boot" -b ::/system-connections/ >"$WORK/ls" 2>&1 || fail "mdir: $(cat "$WORK/ls")"
        for f in resin-wifi balena-ethernet balena-cellular office.nmconnection lab-eth \
                README.ignore; do
                grep -qx "::/system-connections/$f" "$WORK/ls" ||
                        fail "system-connections lacks '$f': $(cat "$WORK/ls")"
                ok
        done

        # --- proxy
        conf --proxy "$D/redsocks.conf" --no-proxy "$D/no_proxy"
        expect_stdout "$label:/system-proxy/redsocks.conf"
        expect_stdout "$label:/system-proxy/no_proxy"
        get "$img" /system-proxy/redsocks.conf "$P/redsocks.conf"
        cmp "$P/redsocks.conf" "$D/redsocks.conf" || fail "redsocks.conf is not byte-identical"
        ok
        get "$img" /system-proxy/no_proxy "$P/no_proxy"
        cmp "$P/no_proxy" "$D/no_proxy" || fail "no_proxy is not byte-identical"
        ok

        # --- network options leave config.json alone (Wi-Fi in it does nothing on 2.x+)
        get "$img" /config.json "$WORK/config.after"
        cmp -s "$WORK/config.before" "$WORK/config.after" ||
                fail "$name: config.json changed: $(cat "$WORK/config.after")"
        ok

        # --- the same profiles again: not one byte changes
        all="--wifi-ssid Hidden --wifi-key secret123 --wifi-hidden --static-ip 192.168.7.20/24
             --gateway 192.168.7.1 --apn internet --apn-user u --apn-password p
             --system-connection $D/office.nmconnection --system-connection $D/lab-eth
             --proxy $D/redsocks.conf --no-proxy $D/no_proxy"
        # shellcheck disable=SC2086 # the paths have no spaces
        conf $all
        first=$(checksum "$img")
        # shellcheck disable=SC2086
        conf $all
        expect_eq "$(checksum "$img")" "$first" "$name: image after the same configure twice"
        # shellcheck disable=SC2086
        run "$bin" configure "$img" $all --dry-run
        [ "$RC" -eq 0 ] || fail "dry run: exit $RC: $(head -c 600 "$WORK/stderr")"
        ok
        expect_eq "$(checksum "$img")" "$first" "$name: image after a dry run"

        # --- only the boot partition changed, and it is clean
        expect_eq "$(outside "$img")" "$outside_before" "$name: bytes outside partition $boot"
        fsck_fat "$img" "$boot"
        rm -f "$img"
done

done_testing
