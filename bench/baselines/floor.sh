#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Baseline 4, the floor: only the bare mtools commands, at a known offset, on
# files prepared beforehand (what balena-img wrote): no look-ups, no JSON, no
# checks. No tool that edits FAT through mtools can cost less.
#
#   floor.sh read IMG OFFSET FILE...        one mtype per file
#   floor.sh write IMG OFFSET TREE          one mcopy per file of TREE (config.json,
#                                           system-connections/resin-wifi, splash/...)
#   floor.sh write-single IMG OFFSET TREE   one mcopy -s of the whole TREE
#   floor.sh splash IMG OFFSET LOGO.png     one mcopy
set -eu
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
cmd=$1 part="$2@@$3"
shift 3
case $cmd in
read)
        for f in "$@"; do
                mtype -i "$part" "::$f"
        done
        ;;
write)
        mcopy -o -i "$part" "$1/config.json" ::config.json
        mcopy -o -i "$part" "$1/system-connections/resin-wifi" ::system-connections/resin-wifi
        mcopy -o -i "$part" "$1/splash/balena-logo.png" ::splash/balena-logo.png
        ;;
write-single)
        mcopy -s -o -i "$part" "$1/config.json" "$1/system-connections" "$1/splash" ::/
        ;;
splash)
        mcopy -o -i "$part" "$1" ::splash/balena-logo.png
        ;;
*)
        echo "usage: $0 read|write|write-single|splash IMG OFFSET ..." >&2
        exit 2
        ;;
esac
