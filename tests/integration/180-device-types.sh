#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The built-in device-type table matches data/device-types.json, and
# configure --device-type takes slugs and aliases and suggests close ones.
. "$top_srcdir/tests/lib.sh"
data=$top_srcdir/data/device-types.json

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
expect_exit 0 "$BALENA_IMG" device-types
expect_stdout "raspberrypi4-64"
expect_eq "$(($(wc -l <"$WORK/stdout") - 1))" "$(jq '.deviceTypes | length' "$data")" \
        "table rows"

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
