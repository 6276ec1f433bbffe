#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# configure is idempotent and its --dry-run tells the truth: the same full
# configure twice leaves the image byte-identical after the second run, which
# prints only "unchanged" lines; --dry-run prints a unified diff that patch(1)
# turns the old config.json into exactly the new one, lists the files it would
# add or replace, writes nothing, and shows no diff once the image is
# configured. --config FILE merges (keys already there stay), --replace-config
# replaces (old keys gone), and unknown keys of any JSON type survive.
. "$top_srcdir/tests/lib.sh"
bin=$BALENA_IMG
unset BALENA_IMG
for tool in ssh-keygen openssl patch diff base64 mtype mcopy jq; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing"
done
export MALLOC_PERTURB_=165      # a use-after-free crashes every time

ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f "$WORK/id_ed25519"
ssh-keygen -q -t rsa -b 3072 -N '' -C 'ci build key' -f "$WORK/id_rsa"
cat "$WORK/id_ed25519.pub" "$WORK/id_rsa.pub" >"$WORK/two.pub"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test \
        -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 30 2>"$WORK/openssl.err" ||
        fail "openssl could not make a test CA: $(cat "$WORK/openssl.err")"
cat >"$WORK/99-ftdi.rules" <<'EOF'
SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", SYMLINK+="ftdi-%s{serial}"
ACTION=="add", SUBSYSTEM=="usb", RUN+="/bin/sh -c 'echo $env{DEVNAME} >/run/ftdi-added'"
EOF
printf 'KERNEL=="ttyUSB[0-9]*", MODE="0666"\n' >"$WORK/serial.rules"
# a 16x16 RGB PNG
base64 -d >"$WORK/logo.png" <<'EOF'
iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAABlklEQVR42hXRURVEIQhFUSMYgQhGMAIRiGCEE8EIRiACEYhABCLMG7/ZrMt1jMEcyGAN9kAHNjgDBnfwBj6IQQ5q0IMxJnMikzXZE53Y5EyY3Mmb+CQmOalJzw8IUxBhCVtQwYQjIFzhCS6EkEIJLR9YzIUs1mIvdGGLs2BxF2/hi1jkoha9PrCZG9mszd7oxjZnw+Zu3sY3sclNbXp/QJmKKEvZiiqmHAXlKk9xJZRUSmn9gDENMZaxDTXMOAbGNZ7hRhhplNH2gcM8yGEd9kEPdjgHDvfwDn6IQx7q0OcD/wK/Sr4jv9hfkG/1N/x/Fx44BCQU9Pc94zIvclmXfdGLXc79j9/Lu/glLnmpS98PPOZDHuuxH/qwx3n/5ffxHv6IRz7q0e8DznTEWc521DHn+D/KdZ7jTjjplNP+gWAGEqxgBxpYcOIf/AYv8CCCDCro+EAyE0lWshNNLDn5P/MmL/Ekkkwq6fxAMQspVrELLaw49S/lFq/wIoosquj6QDMbaVazG22sOf2v8Dav8SaabKrp5geIAnAQC3NfwAAAAABJRU5ErkJggg==
EOF

set -- --hostname kiosk-01 \
        --ssh-key "$WORK/two.pub" --ssh-key "$WORK/id_ed25519.pub" \
        --udev-rule "$WORK/99-ftdi.rules" --udev-rule "64-serial=$WORK/serial.rules" \
        --dev --persistent-logging --country GB \
        --ntp-servers 'ntp1.example.com ntp2.example.com' --dns-servers '1.1.1.1 9.9.9.9' \
        --root-ca "$WORK/ca.pem" --random-mac-scan \
        --connectivity-uri https://check.example.com/cc --connectivity-interval 600 \
        --connectivity-response ok \
        --set os.fan.profile=quiet --set 'myApp={"retries":[1,2]}' --unset deviceApiKey \
        --wifi-ssid 'Office Net' --wifi-key 'correct horse battery'

jq_true() { jq -e "$2" "$1" >/dev/null 2>&1 || fail "$3: jq '$2' is not true"; ok; }
# only_unchanged WHAT: stdout is non-empty and every line says "unchanged"
only_unchanged() {
        [ -s "$WORK/stdout" ] || fail "$1: printed nothing"
        ! grep -v '^unchanged ' "$WORK/stdout" >"$WORK/other" ||
                fail "$1: more than 'unchanged' lines: $(head -5 "$WORK/other")"
        [ ! -s "$WORK/stderr" ] || fail "$1: wrote to stderr: $(head -c 300 "$WORK/stderr")"
        ok
}
# split_dry_run: stdout into the diff ($WORK/dry.diff) and the change list
# ($WORK/dry.list); diff lines start with - + @ or a space, list lines a word
split_dry_run() {
        grep -v '^[a-z]' "$WORK/stdout" >"$WORK/dry.diff" || true
        grep '^[a-z]' "$WORK/stdout" >"$WORK/dry.list" || true
}

for name in mbr-v8 gpt-flasher; do
        img=$(fixture "$name")
        boot=$(fact "$name" boot_part)
        label=$(fact "$name" boot_label)
        m mtype "$img" "$boot" ::/config.json >"$WORK/old.json"
        fresh=$(checksum "$img")

        # --dry-run: a diff that patch applies, the files, nothing written
        expect_exit 0 "$bin" configure "$img" "$@" --dry-run
        [ ! -s "$WORK/stderr" ] || fail "$name: dry run wrote to stderr: $(cat "$WORK/stderr")"
        split_dry_run
        head -n2 "$WORK/dry.diff" | grep -q '^--- ' || fail "$name: dry run printed no unified diff"
        ok
        grep -q '^@@ ' "$WORK/dry.diff" || fail "$name: dry run diff has no hunk"
        ok
        grep -qx "would replace *$label:/config.json.*" "$WORK/dry.list" ||
                fail "$name: dry run does not list config.json: $(cat "$WORK/dry.list")"
        ok
        grep -qx "would add *$label:/system-connections/resin-wifi.*" "$WORK/dry.list" ||
                fail "$name: dry run does not list the Wi-Fi profile: $(cat "$WORK/dry.list")"
        ok
        ! grep -v '^would \(add\|replace\) ' "$WORK/dry.list" >"$WORK/other" ||
                fail "$name: dry run lists other lines: $(cat "$WORK/other")"
        ok
        expect_eq "$(checksum "$img")" "$fresh" "$name: image after --dry-run"
        patch -s -o "$WORK/patched.json" "$WORK/old.json" <"$WORK/dry.diff" >"$WORK/patch.out" 2>&1 ||
                fail "$name: patch refuses the dry-run diff: $(cat "$WORK/patch.out")"
        ok

        # run 1 writes; the dry run's diff predicted exactly the new file
        expect_exit 0 "$bin" configure "$img" "$@"
        grep -qx "replaced *$label:/config.json.*" "$WORK/stdout" ||
                fail "$name: run 1 does not report config.json: $(cat "$WORK/stdout")"
        ok
        grep -qx "added *$label:/system-connections/resin-wifi.*" "$WORK/stdout" ||
                fail "$name: run 1 does not report the Wi-Fi profile: $(cat "$WORK/stdout")"
        ok
        m mtype "$img" "$boot" ::/config.json >"$WORK/new.json"
        cmp -s "$WORK/patched.json" "$WORK/new.json" ||
                fail "$name: dry-run diff differs from what was written: $(diff "$WORK/patched.json" "$WORK/new.json" | head -20)"
        ok
        m mtype "$img" "$boot" ::/system-connections/resin-wifi >"$WORK/wifi" ||
                fail "$name: no system-connections/resin-wifi after run 1"
        grep -qx 'ssid=Office Net' "$WORK/wifi" || fail "$name: Wi-Fi profile lacks the SSID"
        ok
        after1=$(checksum "$img")
        [ "$after1" != "$fresh" ] || fail "$name: run 1 changed nothing"
        ok

        # run 2 changes nothing and says so
        expect_exit 0 "$bin" configure "$img" "$@"
        only_unchanged "$name: run 2"
        expect_stdout "$label:/config.json"
        expect_stdout "$label:/system-connections/resin-wifi"
        expect_eq "$(checksum "$img")" "$after1" "$name: image after run 2"

        # a dry run on the configured image: no diff, nothing would change
        expect_exit 0 "$bin" configure "$img" "$@" --dry-run
        only_unchanged "$name: dry run on a configured image"
        expect_eq "$(checksum "$img")" "$after1" "$name: image after the second dry run"
        fsck_fat "$img" "$boot"
        rm -f "$img"
done

# --config FILE merges: keys already there stay, in their place
img=$(fixture mbr-v8)
expect_exit 0 "$bin" configure "$img" "$@"
m mtype "$img" 1 ::/config.json >"$WORK/before.json"
cat >"$WORK/merge.json" <<'EOF'
{"hostname": "merged-host", "applicationId": 1234,
 "os": {"network": {"connectivity": {"interval": "900"}}}, "myApp": {"mode": "kiosk"}}
EOF
expect_exit 0 "$bin" configure "$img" --config "$WORK/merge.json"
m mtype "$img" 1 ::/config.json >"$WORK/merged.json"
jq_true "$WORK/merged.json" '.hostname == "merged-host" and .applicationId == 1234' \
        "--config: its keys set"
jq_true "$WORK/merged.json" '.os.network.connectivity ==
        {"uri": "https://check.example.com/cc", "interval": "900", "response": "ok"}' \
        "--config: nested objects merged key by key"
jq_true "$WORK/merged.json" '.myApp == {"retries": [1, 2], "mode": "kiosk"}' \
        "--config: an unknown object merged key by key"
jq -S 'del(.hostname, .applicationId, .os.network.connectivity.interval, .myApp.mode)' \
        "$WORK/merged.json" >"$WORK/a.json"
jq -S 'del(.hostname, .os.network.connectivity.interval)' "$WORK/before.json" >"$WORK/b.json"
cmp -s "$WORK/a.json" "$WORK/b.json" ||
        fail "--config lost or changed keys: $(diff "$WORK/b.json" "$WORK/a.json" | head -20)"
ok
jq -c keys_unsorted "$WORK/before.json" >"$WORK/kept"
jq -e --slurpfile kept "$WORK/kept" 'keys_unsorted[:($kept[0] | length)] == $kept[0]' \
        "$WORK/merged.json" >/dev/null ||
        fail "--config moved keys: had $(cat "$WORK/kept"), now $(jq -c keys_unsorted "$WORK/merged.json")"
ok
merged=$(checksum "$img")
expect_exit 0 "$bin" configure "$img" --config "$WORK/merge.json"
only_unchanged "--config a second time"
expect_eq "$(checksum "$img")" "$merged" "image after the same --config twice"

# --config FILE --replace-config: exactly FILE, old keys gone
cat >"$WORK/replace.json" <<'EOF'
{"hostname": "fresh-start", "deviceType": "raspberrypi4-64", "persistentLogging": false,
 "myVendorKey": {"a": [1, 2]}}
EOF
expect_exit 0 "$bin" configure "$img" --config "$WORK/replace.json" --replace-config
m mtype "$img" 1 ::/config.json >"$WORK/replaced.json"
expect_eq "$(jq -c . "$WORK/replaced.json")" "$(jq -c . "$WORK/replace.json")" \
        "config.json after --replace-config"
jq_true "$WORK/replaced.json" 'has("os") or has("balenaRootCA") or has("applicationId") | not' \
        "--replace-config: old keys gone"
jq --indent 2 . "$WORK/replace.json" >"$WORK/pretty.json"
cmp -s "$WORK/replaced.json" "$WORK/pretty.json" ||
        fail "--replace-config: not FILE pretty-printed: $(diff "$WORK/pretty.json" "$WORK/replaced.json")"
ok
fsck_fat "$img" 1

# unknown keys of every JSON type survive a configure, in their place
cat >"$WORK/unknown.json" <<'EOF'
{
  "zzVendor": {"nested": {"deep": [1, -2, 0.5, "x", null, true, false, [], {}]}},
  "deviceType": "raspberrypi4-64",
  "vendorText": "caf\u00e9 \u2713 \"quoted\" back\\slash\ttab",
  "vendorNumber": -42,
  "vendorFloat": 3.25,
  "vendorNull": null,
  "vendorEmpty": {},
  "vendorList": [],
  "vendorFlag": false,
  "persistentLogging": false
}
EOF
m mcopy "$img" 1 -o -D o "$WORK/unknown.json" ::/config.json
expect_exit 0 "$bin" configure "$img" --hostname keeper --dev
m mtype "$img" 1 ::/config.json >"$WORK/kept.json"
jq -S 'del(.hostname, .developmentMode)' "$WORK/kept.json" >"$WORK/a.json"
jq -S . "$WORK/unknown.json" >"$WORK/b.json"
cmp -s "$WORK/a.json" "$WORK/b.json" ||
        fail "unknown keys changed by configure: $(diff "$WORK/b.json" "$WORK/a.json" | head -20)"
ok
jq -c keys_unsorted "$WORK/unknown.json" >"$WORK/kept"
jq -e --slurpfile kept "$WORK/kept" 'keys_unsorted[:($kept[0] | length)] == $kept[0]' \
        "$WORK/kept.json" >/dev/null ||
        fail "configure moved unknown keys: had $(cat "$WORK/kept"), now $(jq -c keys_unsorted "$WORK/kept.json")"
ok
jq_true "$WORK/kept.json" '.hostname == "keeper" and .developmentMode == true' \
        "configure beside unknown keys"
fsck_fat "$img" 1

# the splash is part of a configure too: listed, written once, then unchanged
m mtype "$img" 1 ::/config.json >"$WORK/old.json"
before=$(checksum "$img")
expect_exit 0 "$bin" configure "$img" --hostname splashed --splash "$WORK/logo.png" --dry-run
split_dry_run
grep -qx 'would replace *resin-boot:/splash/balena-logo.png.*' "$WORK/dry.list" ||
        fail "dry run does not list the splash: $(cat "$WORK/dry.list")"
ok
expect_eq "$(checksum "$img")" "$before" "image after a --splash dry run"
patch -s -o "$WORK/patched.json" "$WORK/old.json" <"$WORK/dry.diff" >"$WORK/patch.out" 2>&1 ||
        fail "patch refuses the --splash dry-run diff: $(cat "$WORK/patch.out")"
ok
expect_exit 0 "$bin" configure "$img" --hostname splashed --splash "$WORK/logo.png"
m mtype "$img" 1 ::/splash/balena-logo.png >"$WORK/logo.back"
cmp -s "$WORK/logo.back" "$WORK/logo.png" || fail "splash written by configure differs"
ok
m mtype "$img" 1 ::/config.json >"$WORK/new.json"
cmp -s "$WORK/patched.json" "$WORK/new.json" || fail "--splash dry-run diff differs from the result"
ok
after1=$(checksum "$img")
expect_exit 0 "$bin" configure "$img" --hostname splashed --splash "$WORK/logo.png"
only_unchanged "configure --splash a second time"
expect_eq "$(checksum "$img")" "$after1" "image after the same --splash twice"
fsck_fat "$img" 1

# a config.json written by hand: compact, no trailing newline; the dry-run
# diff still applies to it (unified diffs mark the missing newline)
printf '{"deviceType": "raspberrypi4-64",\n "persistentLogging": false}' >"$WORK/old.json"
m mcopy "$img" 1 -o -D o "$WORK/old.json" ::/config.json
before=$(checksum "$img")
expect_exit 0 "$bin" configure "$img" --hostname by-hand --dry-run
split_dry_run
expect_eq "$(checksum "$img")" "$before" "image after a dry run on a hand-written config.json"
patch -s -o "$WORK/patched.json" "$WORK/old.json" <"$WORK/dry.diff" >"$WORK/patch.out" 2>&1 ||
        fail "patch refuses the dry-run diff of a config.json without a final newline: $(cat "$WORK/patch.out")"
ok
expect_exit 0 "$bin" configure "$img" --hostname by-hand
m mtype "$img" 1 ::/config.json >"$WORK/new.json"
cmp -s "$WORK/patched.json" "$WORK/new.json" ||
        fail "dry-run diff of a config.json without a final newline differs from the result"
ok
done_testing
