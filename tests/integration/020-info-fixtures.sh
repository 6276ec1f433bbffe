#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `info` on every readable fixture reports what fixtures/make-images.sh put into
# it (its .facts), agrees with tools that are not ours (sfdisk, blkid, mdir,
# mtype, jq), never shows a secret from config.json and never changes a byte.
. "$top_srcdir/tests/lib.sh"

for t in jq sfdisk blkid mdir mtype mcopy cksum; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

# yes/no (facts) -> true/false (JSON)
tf() {
        case $1 in
        yes) echo true ;;
        no) echo false ;;
        *) fail "fact is '$1', not yes or no" ;;
        esac
}
# jv JQ: one value of the last `info --json`; null prints as "" (an empty fact)
jv() { jq -r "$1 | if . == null then \"\" else tostring end" "$WORK/info.json"; }
# sha256 of a 1.7 GB sparse image takes 10 s here; cksum (CRC-32 and length)
# takes 0.6 s and is enough to see that info wrote nothing.
quick_sum() { cksum <"$1"; }

# The shape of the output, field by field (schema_version 1).
SCHEMA='.schema_version == 1
  and (.image | (.path | type) == "string" and (.size | type) == "number"
       and (.partition_table | IN("dos", "gpt")) and (.disk_id | type) == "string")
  and (.partitions | type) == "array" and (.partitions | length) > 0
  and all(.partitions[]; (.number | type) == "number" and (.start | type) == "number"
       and (.size | type) == "number" and (.type | type) == "string"
       and (.bootable | type) == "boolean" and (.logical | type) == "boolean"
       and (.extended | type) == "boolean"
       and (.filesystem == null or (.filesystem | type) == "string")
       and (.label == null or (.label | type) == "string")
       and (.role == null or (.role | IN("boot", "rootA", "rootB", "state", "data"))))
  and (.boot_partition | type) == "number"
  and (.device_type | type) == "object" and (.os | type) == "object"
  and (.flasher | type) == "boolean" and (.signed | type) == "boolean"
  and (.development_mode | type) == "boolean"
  and (.development_mode_source | type) == "string"
  and (.active_root | IN("rootA", "rootB")) and (.active_root_source | type) == "string"
  and (.boot_free_bytes | type) == "number"
  and (.config | (.present | type) == "boolean" and (.valid | type) == "boolean"
       and (.keys | type) == "array"
       and all(.keys[]; (.key | type) == "string" and (.summary | type) == "string"
               and (.secret | type) == "boolean"))'

# The role a partition has by the balenaOS naming convention: its filesystem
# label, else its GPT name, is resin-/flash-/balena- + the role.
CONVENTION='def role_of: capture("^(resin|flash|balena)-(?<r>boot|rootA|rootB|state|data)$").r;
  def conv: ((.label // "") | role_of) // ((.name // "") | role_of) // null;'

# The keys of a config.json, as info names them: nested objects flattened to
# dotted names, except empty objects and the os.udevRules / deviceApiKeys maps.
FLATTEN='def flat($p): to_entries[]
  | (if $p == "" then .key else "\($p).\(.key)" end) as $k
  | if (.value | type) == "object" and (.value | length) > 0
       and $k != "os.udevRules" and $k != "deviceApiKeys"
    then .value | flat($k) else $k end;
  [flat("")] | sort | join(",")'

# The readable fixtures: every one without a bad= fact, and mbr-luks-rootA
# (boot intact, rootA LUKS).
good=
for name in $(fixture_names); do
        [ -z "$(fact "$name" bad)" ] || [ "$name" = mbr-luks-rootA ] || continue
        good="$good $name"
done
for name in mbr-v8 gpt-fat32 gpt-flasher mbr-luks-rootA; do
        case " $good " in
        *" $name "*) ;;
        *) fail "fixture '$name' is missing or marked bad" ;;
        esac
done

for name in $good; do
        img=$(fixture "$name")
        before=$(quick_sum "$img")

        expect_exit 0 "$BALENA_IMG" info --json "$img"
        [ ! -s "$WORK/stderr" ] || fail "$name: info printed to stderr: $(cat "$WORK/stderr")"
        cp "$WORK/stdout" "$WORK/info.json"
        jq -e "$SCHEMA" "$WORK/info.json" >/dev/null ||
                fail "$name: info --json does not match schema 1: $(head -c 600 "$WORK/info.json")"
        ok

        # --- what make-images.sh recorded ---
        expect_eq "$(jv .image.partition_table)" "$(fact "$name" table)" "$name partition_table"
        expect_eq "$(jv .image.size)" "$(fact "$name" image_size)" "$name image.size"
        expect_eq "$(jv .boot_partition)" "$(fact "$name" boot_part)" "$name boot_partition"
        expect_eq "$(jv .device_type.slug)" "$(fact "$name" device_type)" "$name device_type.slug"
        expect_eq "$(jv .device_type.name)" "$(fact "$name" device_type_name)" \
                "$name device_type.name"
        expect_eq "$(jv .device_type.arch)" "$(fact "$name" arch)" "$name device_type.arch"
        expect_eq "$(jv .os.version)" "$(fact "$name" os_version)" "$name os.version"
        expect_eq "$(jv .os.meta_balena_version)" "$(fact "$name" meta_balena_version)" \
                "$name os.meta_balena_version"
        expect_eq "$(jv .os.board_revision)" "$(fact "$name" board_rev)" "$name os.board_revision"
        expect_eq "$(jv .os.yocto_codename)" "$(fact "$name" codename)" "$name os.yocto_codename"
        expect_eq "$(jv .os.machine)" "$(fact "$name" machine)" "$name os.machine"
        expect_eq "$(jv .os.variant)" "$(fact "$name" variant)" "$name os.variant"
        expect_eq "$(jv .os.build_timestamp)" "$(fact "$name" build_timestamp)" \
                "$name os.build_timestamp"
        expect_eq "$(jv .os.storage_driver)" "$(fact "$name" storage_driver)" \
                "$name os.storage_driver"
        expect_eq "$(jv .flasher)" "$(tf "$(fact "$name" flasher)")" "$name flasher"
        expect_eq "$(jv .signed)" "$(tf "$(fact "$name" signed)")" "$name signed"
        expect_eq "$(jv .development_mode)" "$(tf "$(fact "$name" dev)")" "$name development_mode"
        expect_eq "$(jv .active_root)" "$(fact "$name" active_root)" "$name active_root"
        expect_eq "$(jv '[.partitions[] | select(.extended | not)] | length')" \
                "$(fact "$name" parts)" "$name number of partitions (without the extended one)"

        # --- roles: the naming convention, and the partition numbers recorded ---
        expect_eq "$(jv "$CONVENTION"' [.partitions[] | select(.role != conv)
                         | "p\(.number): role \(.role), label \(.label), name \(.name)"]
                         | join("; ")')" \
                "" "$name partitions whose role does not follow their label/GPT name"
        for role in boot rootA rootB state data; do
                want=$(fact "$name" "${role}_part")
                [ "$role" != boot ] || want=$(fact "$name" boot_part)
                expect_eq "$(jv "[.partitions[] | select(.role == \"$role\") | .number]
                                 | join(\",\")")" "$want" "$name partition with role $role"
        done
        expect_eq "$(jv '.boot_partition as $b | .partitions[] | select(.number == $b) | .label')" \
                "$(fact "$name" boot_label)" "$name boot partition label"

        # --- partition table: sfdisk (libfdisk, but not our reading of it) ---
        sfdisk -J "$img" >"$WORK/sfdisk.json" 2>/dev/null || fail "$name: sfdisk -J failed"
        expect_eq "$(jq -c '.partitiontable as $t | [$t.partitions[]
                    | {n: (.node | ltrimstr($t.device) | ltrimstr("p") | tonumber),
                       start: (.start * ($t.sectorsize // 512)),
                       size: (.size * ($t.sectorsize // 512)), name: (.name // "")}]
                    | sort_by(.n)' "$WORK/sfdisk.json")" \
                "$(jq -c '[.partitions[] | {n: .number, start, size, name: (.name // "")}]
                    | sort_by(.n)' "$WORK/info.json")" \
                "$name partitions (number, start, size, GPT name)"
        expect_eq "$(jv .image.disk_id)" "$(jq -r .partitiontable.id "$WORK/sfdisk.json")" \
                "$name disk id"

        # --- filesystem type and label of every partition: blkid -p ---
        jq -r '.partitions[] | select(.extended | not)
               | "\(.number)|\(.start)|\(.size)|\(.filesystem // "")|\(.label // "")"' \
                "$WORK/info.json" >"$WORK/parts"
        while IFS='|' read -r n start size fstype label; do
                blkid -p -o export --offset "$start" --size "$size" "$img" >"$WORK/blkid" 2>&1 || :
                expect_eq "$fstype" "$(sed -n 's/^TYPE=//p' "$WORK/blkid")" "$name p$n filesystem"
                expect_eq "$label" "$(sed -n 's/^LABEL=//p' "$WORK/blkid")" "$name p$n label"
        done <"$WORK/parts"

        # --- the boot FAT: free space (mdir) and config.json keys (mtype) ---
        boot=$(fact "$name" boot_part)
        free=$(m mdir "$img" "$boot" ::/ | sed -n 's/ bytes free$//p' | tr -d ' ')
        [ -n "$free" ] || fail "$name: mdir shows no free space"
        awk -v a="$(jv .boot_free_bytes)" -v b="$free" \
                'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b / 100) }' ||
                fail "$name: boot_free_bytes $(jv .boot_free_bytes), mdir says $free bytes free"
        ok
        m mtype "$img" "$boot" ::/config.json >"$WORK/config.json" ||
                fail "$name: mtype cannot read config.json"
        expect_eq "$(jv .config.present),$(jv .config.valid)" "true,true" \
                "$name config present,valid"
        expect_eq "$(jv '[.config.keys[].key] | sort | join(",")')" \
                "$(jq -r "$FLATTEN" "$WORK/config.json")" "$name config.json keys"

        # --- active root: what the bootloader environment says (read with mtype) ---
        env=$(fact "$name" bootenv)
        if [ -n "$env" ]; then
                part=$(m mtype "$img" "$boot" "::$env" | sed -n 's/^resin_root_part=//p')
                case $part in
                A | B) want=root$part ;;
                "$(fact "$name" rootA_part)") want=rootA ;;
                "$(fact "$name" rootB_part)") want=rootB ;;
                *) fail "$name: $env says resin_root_part='$part'" ;;
                esac
                expect_eq "$(jv .active_root)" "$want" "$name active_root (from $env)"
        fi

        # --- the text output says the same ---
        expect_exit 0 "$BALENA_IMG" info "$img"
        expect_stdout "^OS version: *$(fact "$name" os_version) "
        expect_stdout "^Device type: *$(fact "$name" device_type) "
        if [ "$(fact "$name" flasher)" = yes ]; then
                expect_stdout '^Flasher: *yes'
        else
                expect_stdout '^Flasher: *no'
        fi
        expect_stdout "^Active root: *$(fact "$name" active_root) "

        expect_eq "$(quick_sum "$img")" "$before" "$name: checksum after info"
        rm -f "$img"
done

# --- one by one: the cases the brief names ---
img=$(fixture mbr-luks-rootA)
expect_exit 0 "$BALENA_IMG" info --json "$img"
expect_eq "$(jq -r --argjson n "$(fact mbr-luks-rootA rootA_part)" \
        '.partitions[] | select(.number == $n) | .filesystem' "$WORK/stdout")" crypto_LUKS \
        "mbr-luks-rootA rootA filesystem"
rm -f "$img"

img=$(fixture gpt-fat32)
m mtype "$img" "$(fact gpt-fat32 boot_part)" ::/EFI/BOOT/grubenv | grep -q '^resin_root_part=3$' ||
        fail "gpt-fat32's grubenv does not say resin_root_part=3"
expect_exit 0 "$BALENA_IMG" info --json "$img"
expect_eq "$(jq -r '.active_root + " " + .active_root_source' "$WORK/stdout")" "rootB grubenv" \
        "gpt-fat32 active root"
rm -f "$img"

# --- secrets in config.json never reach the output ---
img=$(fixture mbr-v8)
boot=$(fact mbr-v8 boot_part)
cat >"$WORK/secret.json" <<'EOF'
{
  "deviceType": "raspberrypi4-64",
  "apiKey": "SECRETSECRETSECRETSECRETAPIKEY01",
  "deviceApiKey": "SECRETSECRETDEVICEAPIKEY00000002",
  "deviceApiKeys": { "api.balena-cloud.com": "SECRETSECRETMAPPEDKEY00000000003" },
  "registryToken": "SECRETSECRETREGISTRYTOKEN0000004",
  "wifiKey": "SECRETWIFIKEY005",
  "os": {
    "sshKeys": [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host"
    ],
    "udevRules": { "56": "ACTION==\"add\", SUBSYSTEM==\"net\"" },
    "network": { "wifi": { "randomMacAddressScan": false } }
  },
  "hostname": "fixture",
  "persistentLogging": false,
  "dnsServers": "1.1.1.1",
  "empty": {}
}
EOF
m mcopy "$img" "$boot" -o "$WORK/secret.json" ::/config.json || fail "mcopy config.json failed"
for mode in --json ""; do
        expect_exit 0 "$BALENA_IMG" info $mode "$img"
        for s in SECRETSECRET SECRETWIFIKEY AAAAC3NzaC1lZDI1NTE5; do
                ! grep -q "$s" "$WORK/stdout" "$WORK/stderr" ||
                        fail "info ${mode:-(text)} shows '$s...'"
                ok
        done
done
expect_exit 0 "$BALENA_IMG" info --json "$img"
expect_eq "$(jq -r '[.config.keys[] | select(.secret) | .key] | sort | join(",")' "$WORK/stdout")" \
        "apiKey,deviceApiKey,deviceApiKeys,registryToken,wifiKey" "keys marked secret"
expect_eq "$(jq -r '[.config.keys[].key] | sort | join(",")' "$WORK/stdout")" \
        "$(jq -r "$FLATTEN" "$WORK/secret.json")" "keys of the nested config.json"
# A secret deep in a long dotted name (past the 63 bytes info keeps of a key).
long=$(printf '%070d' 0 | tr 0 x)
printf '{"deviceType": "raspberrypi4-64", "vpn": {"%s": {"apiKey": "SECRETSECRETDEEP06"}},
 "%sPassword": "SECRETSECRETLONG07"}\n' "$long" "$long" >"$WORK/long.json"
m mcopy "$img" "$boot" -o "$WORK/long.json" ::/config.json || fail "mcopy config.json failed"
for mode in --json ""; do
        expect_exit 0 "$BALENA_IMG" info $mode "$img"
        ! grep -q SECRETSECRET "$WORK/stdout" ||
                fail "info ${mode:-(text)} shows a secret under a long key:" \
                        "$(grep SECRETSECRET "$WORK/stdout")"
        ok
done
rm -f "$img"

# --- the synopsis puts the option after IMAGE: "info IMAGE [--json]" ---
img=$(fixture mbr-v8)
expect_exit 0 "$BALENA_IMG" info --json "$img"
cp "$WORK/stdout" "$WORK/option-first.json"
expect_exit 0 "$BALENA_IMG" info "$img" --json
cmp -s "$WORK/stdout" "$WORK/option-first.json" || fail "info IMAGE --json prints other output"
ok

done_testing
