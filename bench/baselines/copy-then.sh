#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# copy-then.sh SRC DST CMD [ARG...]: a sparse copy of SRC at DST, then CMD (which
# edits DST): how a baseline writes a new image, as balena-img -o does.
set -eu
cp --sparse=always "$1" "$2"
shift 2
exec "$@"
