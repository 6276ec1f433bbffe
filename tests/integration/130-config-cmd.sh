#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# balena-img config show|get|set|unset|validate, checked against mtype and jq;
# BALENA_IMG as the default image of info, configure, config get/set, splash
# --extract and ls :boot/; configure --device-type; installer.* keys warn on a
# normal image and not on a flasher.
. "$top_srcdir/tests/lib.sh"
bin=$BALENA_IMG
unset BALENA_IMG
for tool in ssh-keygen mtype mdir jq; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing"
done
export MALLOC_PERTURB_=165      # a use-after-free crashes every time

jq_true() { jq -e "$2" "$1" >/dev/null 2>&1 || fail "$3: jq '$2' is not true"; ok; }
cfg() { m mtype "$image" 1 ::/config.json >"$WORK/cfg.json"; }
expect_no_stderr() { [ ! -s "$WORK/stderr" ] || fail "$1: stderr: $(head -c 300 "$WORK/stderr")"; ok; }

ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f "$WORK/id_ed25519"
ssh-keygen -q -t rsa -b 3072 -N '' -C 'ci build key' -f "$WORK/id_rsa"
cat "$WORK/id_ed25519.pub" "$WORK/id_rsa.pub" >"$WORK/two.pub"

image=$(fixture mbr-v8)         # not "img": m() in lib.sh assigns that variable

# show: config.json as stored, byte for byte
expect_exit 0 "$bin" config show "$image"
m mtype "$image" 1 ::/config.json >"$WORK/want"
cmp -s "$WORK/stdout" "$WORK/want" || fail "config show differs from mtype (fresh image)"
ok
expect_exit 0 "$bin" configure "$image" --hostname kiosk-01 --ssh-key "$WORK/two.pub"
expect_exit 0 "$bin" config show "$image"
m mtype "$image" 1 ::/config.json >"$WORK/want"
cmp -s "$WORK/stdout" "$WORK/want" || fail "config show differs from mtype (configured image)"
ok

# get: a string bare, anything else as JSON
expect_exit 0 "$bin" config get "$image" hostname
expect_eq "$(cat "$WORK/stdout")" kiosk-01 "config get hostname"
expect_eq "$(wc -l <"$WORK/stdout")" 1 "lines printed by config get hostname"
expect_exit 0 "$bin" config get "$image" os.sshKeys
jq -e 'type == "array"' "$WORK/stdout" >/dev/null 2>&1 ||
        fail "config get os.sshKeys is not a JSON array: $(head -c 300 "$WORK/stdout")"
ok
expect_eq "$(jq -c . "$WORK/stdout")" "$(jq -c '[inputs | select(length > 0)]' -nR "$WORK/two.pub")" \
        "config get os.sshKeys"
expect_exit 0 "$bin" config get "$image" persistentLogging
expect_eq "$(cat "$WORK/stdout")" false "config get persistentLogging (JSON false)"

# a key that is not there: exit 3, one line naming it
expect_exit 3 "$bin" config get "$image" noSuchKey
expect_one_line_error
expect_stderr noSuchKey
expect_exit 3 "$bin" config get "$image" os.network.nope
expect_one_line_error
expect_stderr os.network.nope

# set: typed by the schema
expect_exit 0 "$bin" config set "$image" persistentLogging=true hostname=abc
expect_stdout "resin-boot:/config.json"
cfg
jq_true "$WORK/cfg.json" '.persistentLogging == true' "config set persistentLogging=true"
jq_true "$WORK/cfg.json" '.hostname == "abc"' "config set hostname=abc"
jq_true "$WORK/cfg.json" '.os.sshKeys | length == 2' "config set keeps the other keys"
expect_exit 0 "$bin" config set "$image" hostname=1234
cfg
jq_true "$WORK/cfg.json" '.hostname == "1234"' "config set hostname=1234 (a string)"
expect_exit 0 "$bin" config get "$image" hostname
expect_eq "$(cat "$WORK/stdout")" 1234 "config get of a numeric-looking string"
expect_exit 0 "$bin" config set "$image" os.network.connectivity.response=ok listenPort=48485
cfg
jq_true "$WORK/cfg.json" '.os.network.connectivity.response == "ok" and .listenPort == 48485' \
        "config set of a nested string key and a number key"

# a value of the wrong type: exit 6, names the key, nothing written
before=$(checksum "$image")
expect_exit 6 "$bin" config set "$image" persistentLogging=maybe
expect_one_line_error
expect_stderr persistentLogging
expect_exit 6 "$bin" config set "$image" hostname=ok country=GBR
expect_one_line_error
expect_stderr country
expect_eq "$(checksum "$image")" "$before" "image after refused config set"

# unset: removes, and a second time is fine and changes nothing
expect_exit 0 "$bin" config unset "$image" hostname
cfg
jq_true "$WORK/cfg.json" 'has("hostname") | not' "config unset hostname"
jq_true "$WORK/cfg.json" '.persistentLogging == true' "config unset keeps the other keys"
after=$(checksum "$image")
expect_exit 0 "$bin" config unset "$image" hostname
expect_no_stderr "config unset of a missing key"
expect_eq "$(checksum "$image")" "$after" "image after unsetting a missing key"
expect_exit 3 "$bin" config get "$image" hostname
expect_one_line_error

# validate: an image, a good and a bad loose file
expect_exit 0 "$bin" config validate "$image"
expect_stdout "valid"
cat >"$WORK/good.json" <<'EOF'
{"deviceType": "raspberrypi4-64", "hostname": "abc", "persistentLogging": true,
 "os": {"sshKeys": [], "udevRules": {"64": "KERNEL==\"sda\", MODE=\"0600\""}},
 "myVendorKey": {"a": [1, 2]}}
EOF
expect_exit 0 "$bin" config validate "$WORK/good.json"
expect_stdout "valid"
for bad in 'persistentLogging:{"persistentLogging": "maybe"}' \
           'hostname:{"hostname": {"a": 1}}' \
           'dnsServers:{"dnsServers": ["1.1.1.1", "8.8.8.8"]}' \
           'os.sshKeys:{"os": {"sshKeys": "ssh-ed25519 AAAA"}}' \
           'country:{"country": "GBR"}'; do
        key=${bad%%:*}
        printf '%s\n' "${bad#*:}" >"$WORK/bad.json"
        expect_exit 6 "$bin" config validate "$WORK/bad.json"
        expect_one_line_error
        expect_stderr "'$key'"
done

# BALENA_IMG names the image when none is given
img2=$(fixture gpt-boot12)
expect_exit 0 env BALENA_IMG="$img2" "$bin" info --json
expect_eq "$(jq -r .image.path "$WORK/stdout")" "$img2" "info with BALENA_IMG: image"
expect_eq "$(jq -r .boot_partition "$WORK/stdout")" 12 "info with BALENA_IMG: boot partition"
expect_exit 0 env BALENA_IMG="$img2" "$bin" configure --hostname from-env
expect_eq "$(m mtype "$img2" 12 ::/config.json | jq -r .hostname)" from-env \
        "configure with BALENA_IMG"
expect_exit 0 env BALENA_IMG="$img2" "$bin" config get hostname
expect_eq "$(cat "$WORK/stdout")" from-env "config get KEY with BALENA_IMG"
expect_exit 0 env BALENA_IMG="$img2" "$bin" config set country=DE
expect_eq "$(m mtype "$img2" 12 ::/config.json | jq -r .country)" DE "config set KEY=V with BALENA_IMG"
expect_exit 0 env BALENA_IMG="$img2" "$bin" splash --extract "$WORK/logo.png"
m mtype "$img2" 12 ::/splash/balena-logo.png >"$WORK/logo.want"
cmp -s "$WORK/logo.png" "$WORK/logo.want" || fail "splash --extract with BALENA_IMG"
ok
expect_exit 0 env BALENA_IMG="$img2" "$bin" ls :boot/
m mdir "$img2" 12 -b ::/ | sed 's|^::/||' | sort >"$WORK/want"
sort "$WORK/stdout" >"$WORK/got"
cmp -s "$WORK/got" "$WORK/want" || fail "ls :boot/ with BALENA_IMG: $(diff "$WORK/want" "$WORK/got")"
ok
# an image given on the command line wins over BALENA_IMG
expect_exit 0 env BALENA_IMG="$img2" "$bin" config get "$image" persistentLogging
expect_eq "$(cat "$WORK/stdout")" true "config get IMAGE KEY with BALENA_IMG set"
rm -f "$img2"

# --device-type: the right one passes, a wrong one is refused and writes nothing
expect_exit 0 "$bin" configure "$image" --device-type raspberrypi4-64 --hostname typed
cfg
jq_true "$WORK/cfg.json" '.hostname == "typed"' "configure --device-type raspberrypi4-64"
before=$(checksum "$image")
expect_exit 6 "$bin" configure "$image" --device-type generic-amd64 --hostname other
expect_one_line_error
expect_stderr generic-amd64
expect_stderr raspberrypi4-64
expect_eq "$(checksum "$image")" "$before" "image after a refused --device-type"

# installer.* on a normal image: a warning, and configure still succeeds
expect_exit 0 "$bin" configure "$image" --set installer.secureboot=true
[ "$(grep -c . "$WORK/stderr")" -eq 1 ] || fail "not one warning line: $(cat "$WORK/stderr")"
ok
expect_stderr '^balena-img: warning: '
expect_stderr installer
cfg
jq_true "$WORK/cfg.json" '.installer.secureboot == true' "installer.secureboot on a normal image"
# ... and none on a flasher, where it belongs
fl=$(fixture gpt-flasher)
expect_exit 0 "$bin" configure "$fl" --set installer.secureboot=true
expect_no_stderr "installer.secureboot on a flasher"
expect_eq "$(m mtype "$fl" "$(fact gpt-flasher boot_part)" ::/config.json |
        jq -c .installer)" '{"secureboot":true}' "installer.secureboot on flash-boot"

# os.network.connectivity.interval is a string (spec 3.2): config set stores
# what configure --connectivity-interval stores, so neither undoes the other
expect_exit 0 "$bin" configure "$fl" --connectivity-interval 600
expect_exit 0 "$bin" config set "$fl" os.network.connectivity.interval=600
expect_stdout '^unchanged '
expect_eq "$(m mtype "$fl" 1 ::/config.json | jq -c .os.network.connectivity.interval)" '"600"' \
        "config set os.network.connectivity.interval=600 (a string key)"

# a loose file's errors name that file, a syntax error and a schema error alike
printf '{"hostname": "a",}\n' >"$WORK/loose-syntax.json"
expect_exit 6 "$bin" config validate "$WORK/loose-syntax.json"
expect_one_line_error
expect_stderr "loose-syntax.json"
printf '{"hostname": {"a": 1}}\n' >"$WORK/loose-schema.json"
expect_exit 6 "$bin" config validate "$WORK/loose-schema.json"
expect_one_line_error
expect_stderr "loose-schema.json"
# config get reads config.json with one mtype and no listing: a missing file, a
# folder in its place and a file past the quick read's cap still get the
# listing's errors (and the same answers)
nocfg=$WORK/nocfg.img
cp --sparse=always "$image" "$nocfg"
m mdel "$nocfg" 1 ::/config.json
expect_exit 3 "$bin" config get "$nocfg" deviceType
expect_one_line_error
expect_stderr "'/config.json' does not exist"
m mmd "$nocfg" 1 ::/config.json
expect_exit 6 "$bin" config get "$nocfg" deviceType
expect_one_line_error
expect_stderr "is a folder"
m mdeltree "$nocfg" 1 ::/config.json
# 300 KB of config.json (past the 256 KiB a quick read keeps), valid all the same
head -c 300000 /dev/zero | tr '\0' x >"$WORK/pad"
jq -n --rawfile pad "$WORK/pad" '{deviceType: "raspberrypi4-64", padding: $pad}' \
        >"$WORK/wide.json"
m mcopy "$nocfg" 1 "$WORK/wide.json" ::/config.json
expect_exit 0 "$bin" config get "$nocfg" deviceType
expect_eq "$(cat "$WORK/stdout")" "raspberrypi4-64" "config get of a 300 KB config.json"
done_testing
