#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The built-in device-type table matches data/device-types.json, and
# configure --device-type takes slugs and aliases and suggests close ones.
. "$top_srcdir/tests/lib.sh"
data=$top_srcdir/data/device-types.json

json_table() { jq -r --arg s "$1" '.[] | select(.slug == $s) | .partition_table' "$WORK/stdout"; }
text_table() { awk -v s="$1" '$1 == s { print $5 }' "$WORK/stdout"; }

expect_exit 0 "$BALENA_IMG" device-types --json
expect_eq "$(jq length "$WORK/stdout")" "$(jq '.deviceTypes | length' "$data")" "number of types"
expect_eq "$(jq -r '.[].slug' "$WORK/stdout" | sort | tr '\n' ' ')" \
        "$(jq -r '.deviceTypes[].slug' "$data" | sort | tr '\n' ' ')" "slugs"
expect_eq "$(jq -r '.[] | "\(.slug) \(.arch) \(.default_boot)"' "$WORK/stdout" | sort | cksum)" \
        "$(jq -r '.deviceTypes[] | "\(.slug) \(.arch) \(.defaultBoot)"' "$data" | sort | cksum)" \
        "arch and boot media"
# flasher: internal storage and no vendor flashing tool (the data's own rule)
expect_eq "$(jq -r '[.[] | select(.flasher)] | length' "$WORK/stdout")" \
        "$(jq '[.deviceTypes[] | select(.internalStorage == true and .flashProtocol == null)]
               | length' "$data")" "flasher types"
expect_eq "$(jq -r '.[] | select(.slug == "raspberrypi4-64") | .flasher' "$WORK/stdout")" \
        "false" "raspberrypi4-64 is not a flasher"
# partition table: every entry of the data says mbr or gpt, and the output follows it
expect_eq "$(jq '[.deviceTypes[] | select(.partitionTable != "mbr" and .partitionTable != "gpt")]
                 | length' "$data")" "0" "data: partitionTable is mbr or gpt"
expect_eq "$(jq -r '.[] | "\(.slug) \(.partition_table)"' "$WORK/stdout" | sort | cksum)" \
        "$(jq -r '.deviceTypes[] | "\(.slug) \(.partitionTable)"' "$data" | sort | cksum)" \
        "partition tables"
expect_eq "$(json_table generic-amd64)" "gpt" "generic-amd64 table (JSON)"
expect_eq "$(json_table jetson-nano)" "gpt" "jetson-nano table (JSON)"
expect_eq "$(json_table raspberrypi4-64)" "mbr" "raspberrypi4-64 table (JSON)"
expect_exit 0 "$BALENA_IMG" device-types
expect_stdout "raspberrypi4-64"
expect_eq "$(($(wc -l <"$WORK/stdout") - 1))" "$(jq '.deviceTypes | length' "$data")" \
        "table rows"
expect_eq "$(head -n1 "$WORK/stdout" | awk '{ print $5 }')" "TABLE" "TABLE column"
expect_eq "$(text_table generic-amd64)" "gpt" "generic-amd64 table (text)"
expect_eq "$(text_table jetson-nano)" "gpt" "jetson-nano table (text)"
expect_eq "$(text_table raspberrypi4-64)" "mbr" "raspberrypi4-64 table (text)"

img=$(fixture mbr-v8)
before=$(checksum "$img")
# the image's own type, and an alias of a type, pass; a mismatch names both
expect_exit 0 "$BALENA_IMG" configure "$img" --device-type raspberrypi4-64 --hostname a \
        --dry-run
alias=$(jq -r '[.deviceTypes[] | select(.aliases | map(select(. != "raspberrypi4-64"))
                | length > 0)][0] | .aliases[0]' "$data")
slug=$(jq -r --arg a "$alias" '.deviceTypes[] | select(.aliases | index($a)) | .slug' "$data" |
        head -n1)
expect_exit 6 "$BALENA_IMG" configure "$img" --device-type "$alias" --hostname a --dry-run
expect_one_line_error
expect_stderr "not $slug"
expect_exit 6 "$BALENA_IMG" configure "$img" --device-type raspberrypi4-46 --hostname a
expect_one_line_error
expect_stderr "unknown device type 'raspberrypi4-46'"
expect_stderr "raspberrypi4-64"
expect_eq "$(checksum "$img")" "$before" "image after refused --device-type"
done_testing
