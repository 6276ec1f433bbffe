#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Small temporary files (boot files read back, staged contents, the trees
# mcopy -s copies in, made of links to them) go to TMPDIR, or to /dev/shm when
# TMPDIR is unset, and none is left behind either way; the files written hold
# the bytes given (a splash named by a symbolic link too). A TMPDIR that cannot
# be used is named in a one-line error, and the image is left byte-identical.
# Read back with mtype.
. "$top_srcdir/tests/lib.sh"

for t in mtype cmp; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done
need_mkpng

B=$BALENA_IMG
H=$WORK/host
mkdir -p "$H"
"$MKPNG" "$H/logo.png" 48 48 || fail "mkpng"
printf '[connection]\nid=lab\ntype=ethernet\ninterface-name=eth1\n\n[ipv4]\nmethod=auto\n' \
        >"$H/lab-eth"
ln -s "$H/logo.png" "$H/logo-link.png"

# scratch_dirs DIR: the folders balena-img names balena-img-XXXXXX in DIR
scratch_dirs() { find "$1" -maxdepth 1 -name 'balena-img-??????' 2>/dev/null | sort; }
img=$(fixture mbr-v8)
shm_before=$(scratch_dirs /dev/shm)
tmp_before=$(scratch_dirs /tmp)
# TMPDIR unset: the one configure writes three files with one mcopy -s
expect_exit 0 env -u TMPDIR "$B" configure "$img" --hostname scratch-01 \
        --splash "$H/logo-link.png" --system-connection "$H/lab-eth"
m mtype "$img" 1 ::/splash/balena-logo.png >"$WORK/logo.got"
cmp -s "$WORK/logo.got" "$H/logo.png" || fail "splash/balena-logo.png differs from logo.png"
ok
m mtype "$img" 1 ::/system-connections/lab-eth >"$WORK/lab.got"
cmp -s "$WORK/lab.got" "$H/lab-eth" || fail "system-connections/lab-eth differs"
ok
m mtype "$img" 1 ::/config.json | grep -q '"hostname": *"scratch-01"' ||
        fail "config.json lacks the hostname"
ok
expect_eq "$(scratch_dirs /dev/shm)" "$shm_before" "balena-img folders in /dev/shm"
expect_eq "$(scratch_dirs /tmp)" "$tmp_before" "balena-img folders in /tmp"

# TMPDIR set: used, and left empty
mkdir "$WORK/mytmp"
expect_exit 0 env TMPDIR="$WORK/mytmp" "$B" configure "$img" --hostname scratch-02
expect_eq "$(ls -A "$WORK/mytmp")" "" "what is left in TMPDIR"
expect_eq "$(scratch_dirs /dev/shm)" "$shm_before" "balena-img folders in /dev/shm"

# a TMPDIR that does not exist: named, and the image untouched
before=$(imgsum "$img")
expect_exit 5 env TMPDIR="$WORK/missing" "$B" configure "$img" \
        --hostname scratch-03 --splash "$H/logo.png"
expect_one_line_error
expect_stderr "$WORK/missing"
expect_eq "$(imgsum "$img")" "$before" "image after a failed change"
done_testing
