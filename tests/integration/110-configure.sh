#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A full configure on every good fixture kind (mbr-v8, gpt-fat32, legacy-2.4x,
# legacy-2.7, gpt-flasher, gpt-boot12). config.json is read back with mtype and
# checked with the very jq expressions balenaOS runs on it (balena-config-vars,
# os-sshkeys, os-udevrules: spec section 3); keys already there keep their
# place, unknown keys survive, the file is 2-space pretty-printed with a
# trailing newline, nothing outside the boot partition changes (on a flasher
# flash-rootA, which holds the image to install, stays byte-identical),
# fsck.fat -n stays clean, and info --json reports the new settings.
. "$top_srcdir/tests/lib.sh"
# lib.sh leaves the binary in BALENA_IMG, which is also the tool's default IMAGE
bin=$BALENA_IMG
unset BALENA_IMG
for tool in ssh-keygen openssl base64 mtype mcopy jq; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing"
done
export MALLOC_PERTURB_=165      # a use-after-free crashes every time

# ---- inputs, made at test time ----------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f "$WORK/id_ed25519"
ssh-keygen -q -t rsa -b 3072 -N '' -C 'ci build key' -f "$WORK/id_rsa"
ssh-keygen -q -t ed25519 -N '' -C 'bob' -f "$WORK/id_bob"
cat "$WORK/id_ed25519.pub" "$WORK/id_rsa.pub" >"$WORK/two.pub"      # one file, two keys
# bob's key again, as a Windows editor saves it: a comment line, a blank line, CRLF
{ echo "# bob's laptop"; echo; cat "$WORK/id_bob.pub"; } | sed 's/$/\r/' >"$WORK/bob-crlf.pub"
# given: two.pub, bob three times, alice again: each key once, in first-seen order
cat "$WORK/id_ed25519.pub" "$WORK/id_rsa.pub" "$WORK/id_bob.pub" >"$WORK/want-keys"
[ "$(wc -l <"$WORK/want-keys")" -eq 3 ] || fail "ssh-keygen did not write one line per key"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test \
        -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 30 2>"$WORK/openssl.err" ||
        fail "openssl could not make a test CA: $(cat "$WORK/openssl.err")"

# a multi-line rule with a comment, a continuation line, quotes, $ and %
cat >"$WORK/99-ftdi.rules" <<'EOF'
# FTDI serial adapters get a stable name
SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", \
  SYMLINK+="ftdi-%s{serial}", MODE="0660", GROUP="dialout"
ACTION=="add", SUBSYSTEM=="usb", RUN+="/bin/sh -c 'echo $env{DEVNAME} >/run/ftdi-added'"
EOF
printf 'KERNEL=="ttyUSB[0-9]*", MODE="0666"\n' >"$WORK/serial.rules"

uri=https://check.example.com/connectivity-check
set -- --hostname kiosk-01 \
        --ssh-key "$WORK/two.pub" --ssh-key "$WORK/id_bob.pub" --ssh-key "$WORK/id_bob.pub" \
        --ssh-key "$WORK/id_ed25519.pub" --ssh-key "$WORK/bob-crlf.pub" \
        --udev-rule "$WORK/99-ftdi.rules" --udev-rule "64-serial=$WORK/serial.rules" \
        --dev --persistent-logging --country GB \
        --ntp-servers 'ntp1.example.com ntp2.example.com' --dns-servers '1.1.1.1 9.9.9.9' \
        --root-ca "$WORK/ca.pem" --random-mac-scan \
        --connectivity-uri "$uri" --connectivity-interval 600 --connectivity-response ok \
        --set os.fan.profile=quiet --set listenPort=48485 \
        --set 'myApp={"retries":[1,2],"on":true,"tag":null}' \
        --unset mixpanelToken

# The balena-config-vars call (meta-balena, recipes-support/balena-config-vars)
BCV='@sh "
     API_ENDPOINT=\(.apiEndpoint // "")
     APPLICATION_ID=\(.applicationId // "")
     BALENA_ROOT_CA=\(.balenaRootCA // "")
     CONFIG_HOSTNAME=\(.hostname // "")
     COUNTRY=\(.country // "")
     DELTA_ENDPOINT=\(.deltaEndpoint // "")
     DEVICE_API_KEY=\(.deviceApiKey // "")
     DEVICE_ID=\(.deviceId // "")
     DEVICE_TYPE=\(.deviceType // "")
     DNS_SERVERS=\(.dnsServers // "8.8.8.8")
     HOSTEXT_IMAGES=\(.hostappExtensions // "")
     LISTEN_PORT=\(.listenPort // "")
     MIXPANEL_TOKEN=\(.mixpanelToken // "")
     NTP_SERVERS=\(.ntpServers // "")
     OS_NET_CONN_INTERVAL=\(.os.network.connectivity.interval // 3600)
     OS_NET_CONN_RESPONSE=\(.os.network.connectivity.response // "")
     OS_NET_CONN_URI=\(.os.network.connectivity.uri // "")
     OS_NET_WIFI_MACSCAN=\(.os.network.wifi.randomMacAddressScan)
     OS_FAN_PROFILE=\(.os.fan.profile // "")
     OS_POWER_MODE=\(.os.power.mode // "")
     PERSISTENT_LOGGING=\(.persistentLogging // false)
     PROVISIONING_API_KEY=\(.apiKey // "")
     REGISTERED_AT=\(.registered_at // "")
     UUID=\(.uuid // "")
     "'

# jq_true FILE EXPR WHAT: the jq expression is true on FILE
jq_true() { jq -e "$2" "$1" >/dev/null 2>&1 || fail "$3: jq '$2' is not true"; ok; }
# range_sum IMG OFFSET LENGTH: cksum of a byte range
range_sum() {
        dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=4M status=none | cksum
}
# outside_sum IMG N: cksum of everything but partition N
outside_sum() {
        o=$(part_offset "$1" "$2"); s=$(part_size "$1" "$2")
        { dd if="$1" iflag=count_bytes count="$o" bs=4M status=none
          dd if="$1" iflag=skip_bytes skip="$((o + s))" bs=4M status=none; } | cksum
}

tested=0
for name in mbr-v8 gpt-fat32 legacy-2.4x legacy-2.7 gpt-flasher gpt-boot12; do
        img=$(fixture "$name")
        boot=$(fact "$name" boot_part)
        cfg=$WORK/$name.json

        # config.json with an unknown vendor key first, and a key to --unset
        m mtype "$img" "$boot" ::/config.json >"$WORK/orig.json"
        jq '{myVendorKey: {a: [1, 2]}} + . + {mixpanelToken: "drop-me"}' "$WORK/orig.json" \
                >"$WORK/seed.json"
        m mcopy "$img" "$boot" -o -D o "$WORK/seed.json" ::/config.json
        jq -c '[keys_unsorted[] | select(. != "mixpanelToken")]' "$WORK/seed.json" >"$WORK/kept"

        outside=$(outside_sum "$img" "$boot")
        if [ "$(fact "$name" flasher)" = yes ]; then
                ra=$(fact "$name" rootA_part)
                ra_off=$(part_offset "$img" "$ra"); ra_size=$(part_size "$img" "$ra")
                rootA=$(range_sum "$img" "$ra_off" "$ra_size")
        fi

        expect_exit 0 "$bin" configure "$img" "$@"
        expect_stdout "$(fact "$name" boot_label):/config.json"
        m mtype "$img" "$boot" ::/config.json >"$cfg"

        # a JSON object, .os an object (paths like .os.network.* need it)
        jq_true "$cfg" 'type == "object"' "$name: config.json"
        jq_true "$cfg" '.os | type == "object"' "$name: .os"

        # balena-config-vars: the @sh call succeeds and every value is one word
        vars=$(jq -r "$BCV" "$cfg" 2>"$WORK/jq.err") ||
                fail "$name: balena-config-vars' jq call fails: $(cat "$WORK/jq.err")"
        ok
        (eval "$vars" && printf '%s\n' "$CONFIG_HOSTNAME" "$PERSISTENT_LOGGING" "$COUNTRY" \
                "$NTP_SERVERS" "$DNS_SERVERS" "$LISTEN_PORT" "$OS_NET_CONN_URI" \
                "$OS_NET_CONN_INTERVAL" "$OS_NET_CONN_RESPONSE" "$OS_NET_WIFI_MACSCAN" \
                "$OS_FAN_PROFILE" "$MIXPANEL_TOKEN" "$DEVICE_TYPE" "$BALENA_ROOT_CA" \
        ) >"$WORK/vars" 2>"$WORK/eval.err" ||
                fail "$name: eval of balena-config-vars output failed: $(cat "$WORK/eval.err")"
        ok
        { printf '%s\n' kiosk-01 true GB 'ntp1.example.com ntp2.example.com' '1.1.1.1 9.9.9.9' \
                48485 "$uri" 600 ok true quiet '' "$(fact "$name" device_type)"
          base64 -w0 <"$WORK/ca.pem"; echo; } >"$WORK/want-vars"
        diff "$WORK/want-vars" "$WORK/vars" >"$WORK/vars.diff" ||
                fail "$name: balena-config-vars values differ: $(cat "$WORK/vars.diff")"
        ok

        # JSON types as the schema has them
        jq_true "$cfg" '.developmentMode == true' "$name: developmentMode"
        [ "$(jq -r .developmentMode "$cfg")" = true ] || fail "$name: development-features"
        ok
        jq_true "$cfg" '.persistentLogging == true' "$name: persistentLogging"
        jq_true "$cfg" '.os.network.wifi.randomMacAddressScan == true' "$name: randomMacAddressScan"
        jq_true "$cfg" '.hostname == "kiosk-01" and .country == "GB"' "$name: hostname, country"
        jq_true "$cfg" '.listenPort == 48485' "$name: --set of a number key"
        jq_true "$cfg" '.os.network.connectivity ==
                {"uri": "'"$uri"'", "interval": "600", "response": "ok"}' "$name: connectivity"
        jq_true "$cfg" '.os.fan == {"profile": "quiet"}' "$name: --set of a nested key"
        jq_true "$cfg" '.myApp == {"retries": [1, 2], "on": true, "tag": null}' \
                "$name: --set of a JSON literal"
        jq_true "$cfg" 'has("mixpanelToken") | not' "$name: --unset"
        jq_true "$cfg" '.myVendorKey == {"a": [1, 2]}' "$name: unknown key kept"

        # keys already there keep their place, in front of the new ones
        jq -c --slurpfile kept "$WORK/kept" \
                'keys_unsorted[:($kept[0] | length)] == $kept[0]' "$cfg" | grep -qx true ||
                fail "$name: key order: had $(cat "$WORK/kept"), now $(jq -c keys_unsorted "$cfg")"
        ok

        # os-sshkeys: one key per line, duplicates dropped, comments kept
        jq_true "$cfg" '.os.sshKeys | type == "array" and all(type == "string")' "$name: sshKeys"
        jq -r 'select(.os.sshKeys != null) | .os.sshKeys[] //empty' "$cfg" >"$WORK/got-keys"
        cmp -s "$WORK/got-keys" "$WORK/want-keys" ||
                fail "$name: os.sshKeys: $(diff "$WORK/want-keys" "$WORK/got-keys")"
        ok

        # os-udevrules: each key's text, echoed, is the rule file as given
        jq_true "$cfg" '.os.udevRules | type == "object" and all(.[]; type == "string")' \
                "$name: udevRules"
        expect_eq "$(jq -r '.os.udevRules | keys[]' "$cfg" | tr '\n' ' ')" "64-serial 99-ftdi " \
                "$name: udev rule names"
        for k in 64-serial:serial 99-ftdi:99-ftdi; do
                key=${k%%:*}
                rule=$(jq -r ".os.udevRules.\"$key\"" "$cfg")
                printf '%s\n' "$rule" >"$WORK/$key.written"
                cmp -s "$WORK/$key.written" "$WORK/${k#*:}.rules" ||
                        fail "$name: udev rule $key: $(diff "$WORK/${k#*:}.rules" "$WORK/$key.written")"
                ok
        done

        # extract-balena-ca: balenaRootCA decodes to the PEM
        jq -r .balenaRootCA "$cfg" | base64 -d >"$WORK/ca.back" 2>"$WORK/b64.err" ||
                fail "$name: balenaRootCA is not base64: $(cat "$WORK/b64.err")"
        cmp -s "$WORK/ca.back" "$WORK/ca.pem" || fail "$name: balenaRootCA does not decode to the PEM"
        ok

        # pretty-printed with 2 spaces, a trailing newline
        jq --indent 2 . "$cfg" >"$WORK/pretty.json"
        cmp -s "$cfg" "$WORK/pretty.json" ||
                fail "$name: not 2-space pretty-printed: $(diff "$WORK/pretty.json" "$cfg" | head -20)"
        ok
        expect_eq "$(tail -c1 "$cfg" | od -An -c | tr -d ' ')" '\n' "$name: last byte"

        # only the boot partition changed; a flasher's image to install did not
        expect_eq "$(outside_sum "$img" "$boot")" "$outside" "$name: bytes outside partition $boot"
        if [ "$(fact "$name" flasher)" = yes ]; then
                expect_eq "$(fact "$name" boot_label)" flash-boot "$name: boot label"
                expect_eq "$(range_sum "$img" "$ra_off" "$ra_size")" "$rootA" \
                        "$name: flash-rootA (the inner image in /opt)"
        fi
        if [ "$name" = gpt-boot12 ]; then
                expect_eq "$boot" 12 "gpt-boot12 boot partition"
        fi
        fsck_fat "$img" "$boot"

        # info --json sees it
        expect_exit 0 "$bin" info --json "$img"
        jq_true "$WORK/stdout" '.development_mode == true' "$name: info development_mode"
        jq_true "$WORK/stdout" '.config.present and .config.valid' "$name: info config valid"
        jq_true "$WORK/stdout" '[.config.keys[].key] as $k |
                ["hostname", "developmentMode", "persistentLogging", "country", "ntpServers",
                 "dnsServers", "balenaRootCA", "listenPort", "os.sshKeys", "os.udevRules",
                 "os.network.wifi.randomMacAddressScan", "os.network.connectivity.uri",
                 "os.network.connectivity.interval", "os.network.connectivity.response",
                 "os.fan.profile", "myVendorKey.a", "myApp.retries", "myApp.on"] - $k == []' \
                "$name: info --json lists the keys"
        jq_true "$WORK/stdout" '[.config.keys[].key] | index("mixpanelToken") == null' \
                "$name: info --json no longer lists the unset key"
        jq_true "$WORK/stdout" '.config.keys[] | select(.key == "hostname") |
                .summary | contains("kiosk-01")' "$name: info --json hostname"
        rm -f "$img"
        tested=$((tested + 1))
done
expect_eq "$tested" 6 "fixtures configured"
# every temporary file and folder the runs made is gone
expect_eq "$(ls -A "$TMPDIR")" "" "what is left in TMPDIR"
done_testing
