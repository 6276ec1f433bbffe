#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# placeholder
. "$top_srcdir/tests/lib.sh"
skip "not written yet"
