#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ls and cat on every good fixture kind, checked against mtools and debugfs:
# listings, file bytes, sizes, JSON, every way of naming a partition, symbolic
# links inside ext4 (which must never lead to the host), and reads that leave
# the image byte-identical.
. "$top_srcdir/tests/lib.sh"

for t in jq sfdisk mdir mtype mcopy debugfs dumpe2fs; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

cache_part_tables

B=$BALENA_IMG
EPOCH=1741953600                # every timestamp make-images.sh puts into a fixture


# same_file GOT WANT WHAT: two files hold the same bytes
same_file() {
        cmp -s "$1" "$2" || fail "$3: got '$(head -c 300 "$1")', want '$(head -c 300 "$2")'"
        ok
}
# mdir_names IMG N DIR: the names mdir -b gives for DIR ("" = root), folders with a
# trailing '/', sorted
mdir_names() {
        m mdir "$1" "$2" -b "::$3/" >"$WORK/mdir.out" || fail "mdir ::$3/ failed"
        prefix="::$3/"
        cut -c$((${#prefix} + 1))- "$WORK/mdir.out" | sed '/^$/d' | sort
}
# dbg_names IMG N DIR: the names debugfs lists in DIR, directories with a '/', sorted
dbg_names() {
        dbg "$1" "$2" "ls -p $3" |
                awk -F/ 'NF >= 7 && $6 != "." && $6 != ".." { print $6 ($3 ~ /^04/ ? "/" : "") }' |
                sort
}
# dbg_long IMG N DIR: "MODE SIZE NAME" per entry as debugfs ls -l sees it, the mode
# written as ls -l writes it
dbg_long() {
        dbg "$1" "$2" "ls -l $3" | awk '
        function perms(p,   s, i, d) {
                s = ""
                for (i = 1; i <= 3; i++) {
                        d = substr(p, i, 1) + 0
                        s = s (int(d / 4) % 2 ? "r" : "-") (int(d / 2) % 2 ? "w" : "-") (d % 2 ? "x" : "-")
                }
                return s
        }
        NF >= 9 && $9 != "." && $9 != ".." {
                t = substr($2, 1, length($2) - 4)
                type = t == "4" ? "d" : t == "12" ? "l" : "-"
                print type perms(substr($2, length($2) - 2)), $6, $9
        }' | sort -k3
}
# long_of FILE: our ls -l output as "MODE SIZE NAME", folders without their '/'
long_of() {
        sed -E 's|^(.{10}) +([0-9]+) [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} (.*)$|\1 \2 \3|; s|/$||' "$1" |
                sort -k3
}
# sorted_stdout: what the last run printed, sorted
sorted_stdout() { sort "$WORK/stdout"; }

# ls_is SPEC WANTFILE: ls SPEC prints exactly the names in WANTFILE
ls_is() {
        expect_exit 0 "$B" ls "$1"
        sorted_stdout >"$WORK/got"
        cmp -s "$WORK/got" "$2" ||
                fail "ls $1: got [$(tr '\n' ' ' <"$WORK/got")], want [$(tr '\n' ' ' <"$2")]"
        ok
}
# json_ok: the last run printed a JSON array of complete entries
json_ok() {
        jq -e 'type == "array" and length > 0 and all(.[];
                (.name | type) == "string" and (.type | IN("file", "directory", "symlink"))
                and (.size | type) == "number" and (.mtime | type) == "number"
                and (.mode | type) == "number")' "$WORK/stdout" >/dev/null ||
                fail "ls --json: not an array of {name,type,size,mtime,mode}: $(head -c 400 "$WORK/stdout")"
        ok
}

check_fixture() {
        f=$1
        img=$(fixture "$f")
        before=$(imgsum "$img")
        bp=$(fact "$f" boot_part)
        rp=$(fact "$f" rootA_part)

        # --- boot: every folder listed as mdir -b lists it ---------------------
        m mdir "$img" "$bp" -b -s ::/ | sed -n 's|^::\(/.*\)/$|\1|p' >"$WORK/dirs"
        [ -s "$WORK/dirs" ] || fail "$f: mdir found no folder in the boot partition"
        echo "" >>"$WORK/dirs"
        while read -r d; do
                mdir_names "$img" "$bp" "$d" >"$WORK/want"
                ls_is "$img:boot$d/" "$WORK/want"
        done <"$WORK/dirs"

        # the same partition by number, label, GPT name and role
        mdir_names "$img" "$bp" "" >"$WORK/want.boot"
        gptname=$(sfdisk -J "$img" | jq -r --arg node "$img$bp" \
                '.partitiontable.partitions[] | select(.node == $node) | .name // empty')
        for p in "$bp" "$(fact "$f" boot_label)" $gptname boot; do
                ls_is "$img:$p/" "$WORK/want.boot"
                ls_is "$img:$p" "$WORK/want.boot"
        done
        # a number that is not boot on gpt-boot12 does not reach it
        if [ "$bp" != 1 ]; then
                expect_exit 4 "$B" ls "$img:1/"
                expect_one_line_error
        fi

        # cat = mtype, byte for byte, by role and by number
        m mtype "$img" "$bp" ::/config.json >"$WORK/want.cfg"
        [ -s "$WORK/want.cfg" ] || fail "$f: mtype printed no config.json"
        for p in boot "$bp"; do
                expect_exit 0 "$B" cat "$img:$p/config.json"
                same_file "$WORK/stdout" "$WORK/want.cfg" "$f: cat $p/config.json"
        done
        [ ! -s "$WORK/stderr" ] || fail "$f: cat wrote to stderr: $(cat "$WORK/stderr")"

        # ls -l: every file's size is what mtype reads; folders and files as mdir says
        expect_exit 0 "$B" ls -l "$img:boot/"
        cp "$WORK/stdout" "$WORK/long"
        [ "$(wc -l <"$WORK/long")" -eq "$(wc -l <"$WORK/want.boot")" ] ||
                fail "$f: ls -l has $(wc -l <"$WORK/long") lines, mdir $(wc -l <"$WORK/want.boot")"
        long_of "$WORK/long" >"$WORK/long.sorted"
        while read -r mode size name; do
                case $mode in
                d*) grep -qx "$name/" "$WORK/want.boot" || fail "$f: ls -l: '$name' is no folder" ;;
                -*)
                        want=$(m mtype "$img" "$bp" "::/$name" | wc -c)
                        [ "$size" -eq "$want" ] || fail "$f: ls -l: '$name' is $size bytes, mtype reads $want"
                        ;;
                *) fail "$f: ls -l: odd mode '$mode' for '$name'" ;;
                esac
        done <"$WORK/long.sorted"
        ok

        # ls --json on boot
        expect_exit 0 "$B" ls --json "$img:boot/"
        json_ok
        jq -r '.[] | .name + (if .type == "directory" then "/" else "" end)' "$WORK/stdout" |
                sort >"$WORK/got"
        same_file "$WORK/got" "$WORK/want.boot" "$f: ls --json names"
        expect_eq "$(jq -r '.[] | select(.name == "config.json") | "\(.type) \(.size)"' "$WORK/stdout")" \
                "file $(wc -c <"$WORK/want.cfg" | tr -d ' ')" "$f: json config.json"
        expect_eq "$(jq -c '[.[].mtime] | unique' "$WORK/stdout")" "[$EPOCH]" "$f: boot json mtimes"

        # --- rootA: ext4 against debugfs ------------------------------------------
        dbg_names "$img" "$rp" / >"$WORK/want.root"
        [ -s "$WORK/want.root" ] || fail "$f: debugfs lists nothing in rootA"
        rlabel=$(dumpe2fs -h "$img?offset=$(part_offset "$img" "$rp")" 2>/dev/null |
                sed -n 's/^Filesystem volume name: *//p')
        rgpt=$(sfdisk -J "$img" | jq -r --arg node "$img$rp" \
                '.partitiontable.partitions[] | select(.node == $node) | .name // empty')
        for p in rootA "$rp" "$rlabel" $rgpt; do
                ls_is "$img:$p/" "$WORK/want.root"
        done

        expect_exit 0 "$B" ls -l "$img:rootA/"
        long_of "$WORK/stdout" >"$WORK/got"
        dbg_long "$img" "$rp" / >"$WORK/want"
        same_file "$WORK/got" "$WORK/want" "$f: ls -l rootA (mode, size, name) vs debugfs ls -l"

        expect_exit 0 "$B" ls --json "$img:rootA/"
        json_ok
        jq -r '.[] | .name + (if .type == "directory" then "/" else "" end)' "$WORK/stdout" |
                sort >"$WORK/got"
        same_file "$WORK/got" "$WORK/want.root" "$f: ls --json rootA names"
        jq -r '.[] | "\(.name) \(.type) \(.size) \(.mode)"' "$WORK/stdout" | sort >"$WORK/got"
        dbg_long "$img" "$rp" / | awk '
        {
                t = substr($1, 1, 1); p = 0
                for (i = 2; i <= 10; i++) p = p * 2 + (substr($1, i, 1) != "-")
                print $3, (t == "d" ? "directory" : t == "l" ? "symlink" : "file"), $2, p
        }' | sort >"$WORK/want"
        same_file "$WORK/got" "$WORK/want" "$f: ls --json rootA (name type size mode)"
        expect_eq "$(jq -c '[.[].mtime] | unique' "$WORK/stdout")" "[$EPOCH]" "$f: rootA json mtimes"

        # the active root's hostapp os-release, and its folder (it may be poky's link)
        ar=$(fact "$f" active_root)
        rp=$(fact "$f" "${ar}_part")
        osrel=$(fact "$f" os_release_path)
        etc=$(dirname "$osrel")
        dbg_names "$img" "$rp" "$etc" >"$WORK/want"
        ls_is "$img:$ar$etc" "$WORK/want"
        real=$osrel
        if dbg "$img" "$rp" "stat $osrel" | grep -q 'Type: symlink'; then
                target=$(dbg "$img" "$rp" "stat $osrel" | sed -n 's/^Fast link dest: "\(.*\)"$/\1/p')
                case $target in
                ../*) real=$(dirname "$etc")/${target#../} ;;
                *) fail "$f: unexpected os-release link '$target'" ;;
                esac
        fi
        dbg "$img" "$rp" "cat $real" >"$WORK/want"
        [ -s "$WORK/want" ] || fail "$f: debugfs cat $real printed nothing"
        expect_exit 0 "$B" cat "$img:$ar$osrel"
        same_file "$WORK/stdout" "$WORK/want" "$f: cat $osrel"
        expect_stdout "^VERSION=\"$(fact "$f" os_version)\"$"

        # --- links inside a hostapp root ------------------------------------------
        if [ -n "$(fact "$f" storage_driver)" ]; then
                dr=$(echo "$osrel" | cut -d/ -f2)
                vol=$(dbg_names "$img" "$rp" "/$dr/volumes" | grep '/$' | sed 's|/$||')
                [ "$(echo "$vol" | wc -l)" -eq 1 ] || fail "$f: not one volume: $vol"
                data=/$dr/volumes/$vol/_data
                dbg_names "$img" "$rp" "$data" >"$WORK/want"
                [ -s "$WORK/want" ] || fail "$f: debugfs lists nothing in $data"
                # /boot -> current/boot -> hostapps/<cid>/boot -> ../../<dr>/volumes/<vol>/_data
                for p in /boot /boot/ /current/boot "/hostapps/$(dbg_names "$img" "$rp" /hostapps | sed 's|/$||')/boot"; do
                        ls_is "$img:$ar$p" "$WORK/want"
                done
                dbg "$img" "$rp" "cat $data/init" >"$WORK/want"
                for p in /sbin/init /boot/init /current/boot/init; do
                        expect_exit 0 "$B" cat "$img:$ar$p"
                        same_file "$WORK/stdout" "$WORK/want" "$f: cat $p through relative links"
                done

                # <layer>/etc/mtab -> /proc/self/mounts: looked up inside the partition,
                # where there is no such file; the host's mounts never show
                mtab=$etc/mtab
                expect_exit 0 "$B" ls -l "$img:$ar$mtab"
                grep -qx 'lrwxrwxrwx  *17 .* mtab' "$WORK/stdout" ||
                        fail "$f: ls -l mtab: $(cat "$WORK/stdout")"
                ok
                expect_exit 3 "$B" cat "$img:$ar$mtab"
                expect_one_line_error
                expect_stderr "does not exist"
                ! grep -q ' / \| /proc ' "$WORK/stderr" || fail "$f: host mounts leaked: $(cat "$WORK/stderr")"
                ok
                expect_exit 3 "$B" cp "$img:$ar$mtab" "$WORK/mtab.out"
                expect_one_line_error
                [ -z "$(find "$WORK" -maxdepth 1 -name 'mtab.out*')" ] ||
                        fail "$f: cp of the dangling mtab link left a host file"
                ok
        fi

        expect_eq "$(imgsum "$img")" "$before" "$f: image checksum after ls/cat"
        rm -f "$img"
}

for f in mbr-v8 gpt-fat32 legacy-2.4x legacy-2.7 gpt-flasher gpt-boot12; do
        check_fixture "$f"
done

# --- long mixed-case FAT names are shown exactly --------------------------------
img=$(fixture mbr-v8)
expect_exit 0 "$B" ls "$img:boot/overlays"
grep -qx 'README.MixedCase.txt' "$WORK/stdout" || fail "ls overlays: $(cat "$WORK/stdout")"
ok
expect_exit 0 "$B" ls -l "$img:boot/overlays"
grep -q ' README\.MixedCase\.txt$' "$WORK/stdout" || fail "ls -l overlays: $(cat "$WORK/stdout")"
ok
expect_exit 0 "$B" ls --json "$img:boot/overlays"
expect_eq "$(jq -r '.[0].name' "$WORK/stdout")" README.MixedCase.txt "json name"
m mtype "$img" 1 ::/overlays/README.MixedCase.txt >"$WORK/want"
expect_exit 0 "$B" cat "$img:boot/overlays/README.MixedCase.txt"
same_file "$WORK/stdout" "$WORK/want" "cat README.MixedCase.txt"

# --- planted links: absolute and ../-heavy targets stay inside the filesystem ----
img=$(fixture gpt-boot12)
rp=$(fact gpt-boot12 rootA_part)
printf 'passwd planted inside the image\n' >"$WORK/pw"
cat >"$WORK/debugfs.cmds" <<EOF
write $WORK/pw /etc/passwd
mkdir /deep
mkdir /deep/a
mkdir /deep/a/b
symlink /deep/a/b/pw ../../../../../../etc/passwd
symlink /deep/a/b/up ../../../../../../../../etc
symlink /abs-passwd /etc/passwd
symlink /abs-osrel /etc/os-release
symlink /abs-hostname /etc/hostname
symlink /abs-etc /etc
symlink /abs-root /
symlink /dotdot ../../..
symlink /environ /proc/self/environ
symlink /loop1 /loop2
symlink /loop2 /loop1
EOF
debugfs -w -f "$WORK/debugfs.cmds" "$img?offset=$(part_offset "$img" "$rp")" >"$WORK/debugfs.out" 2>&1 ||
        fail "debugfs could not plant the links: $(cat "$WORK/debugfs.out")"
[ "$(dbg "$img" "$rp" "cat /etc/passwd")" = "passwd planted inside the image" ] ||
        fail "debugfs did not write /etc/passwd"
before=$(imgsum "$img")
dbg_names "$img" "$rp" / >"$WORK/want.root"
printf 'machine-id\npasswd\n' >"$WORK/want.etc"
no_host() {
        ! grep -q '^root:' "$WORK/stdout" "$WORK/stderr" || fail "$1: the host's /etc/passwd leaked"
        ok
}
for p in /deep/a/b/pw /abs-passwd /abs-etc/passwd /deep/a/b/up/passwd /dotdot/etc/passwd /abs-root/etc/passwd; do
        expect_exit 0 "$B" cat "$img:rootA$p"
        expect_eq "$(cat "$WORK/stdout")" "passwd planted inside the image" "cat $p"
        no_host "$p"
done
expect_exit 0 "$B" cp "$img:rootA/deep/a/b/pw" "$WORK/pw.out"
expect_eq "$(cat "$WORK/pw.out")" "passwd planted inside the image" "cp out through ../ link"
for p in /abs-etc /deep/a/b/up /abs-root/etc; do
        ls_is "$img:rootA$p" "$WORK/want.etc"
done
for p in /abs-root /abs-root/ /dotdot /dotdot/; do
        ls_is "$img:rootA$p" "$WORK/want.root"
done
for p in /abs-osrel /abs-hostname /environ; do
        expect_exit 3 "$B" cat "$img:rootA$p"
        expect_one_line_error
        no_host "$p"
        expect_exit 3 "$B" cp "$img:rootA$p" "$WORK/leak.out"
        [ ! -e "$WORK/leak.out" ] || fail "cp $p created a host file"
        ok
        # the link itself is listed
        expect_exit 0 "$B" ls "$img:rootA$p"
        expect_eq "$(cat "$WORK/stdout")" "${p#/}" "ls of dangling link $p"
done
expect_exit 6 "$B" cat "$img:rootA/loop1"
expect_one_line_error
expect_stderr "too many levels of symbolic links"
expect_eq "$(imgsum "$img")" "$before" "image checksum after reads through planted links"
rm -f "$img"

# --- non-ASCII FAT names (written by mcopy, not by us) are listed and read -------
# Names that need a VFAT long name, so mdir -b shows them exactly (a name that fits
# 8.3, like café.txt, is stored as a short name only; 050 checks that one).
img=$(fixture legacy-2.7)
printf 'cafe creme\n' >"$WORK/Café Crème.txt"
printf 'unicode long name\n' >"$WORK/Ünïcödé long name.txt"
printf 'cjk\n' >"$WORK/日本.txt"
m mcopy "$img" 1 "$WORK/Café Crème.txt" "$WORK/Ünïcödé long name.txt" "$WORK/日本.txt" ::/ ||
        fail "mcopy could not add the UTF-8 names"
before=$(imgsum "$img")
mdir_names "$img" 1 "" >"$WORK/want"
grep -qx 'Ünïcödé long name.txt' "$WORK/want" || fail "mdir does not show the names: $(cat "$WORK/want")"
# each failure is recorded and reported at the end, so one does not hide the next
for name in '日本.txt' 'Café Crème.txt' 'Ünïcödé long name.txt'; do
        m mtype "$img" 1 "::/$name" >"$WORK/want.txt"
        run "$B" cat "$img:boot/$name"
        if [ "$RC" -ne 0 ]; then
                echo "cat IMG:boot/$name: exit $RC, want 0: $(cat "$WORK/stderr")" >>"$WORK/deferred"
        else
                same_file "$WORK/stdout" "$WORK/want.txt" "cat $name"
        fi
done
ok
run "$B" ls "$img:boot/"
sorted_stdout >"$WORK/got"
cmp -s "$WORK/got" "$WORK/want" || echo "ls IMG:boot/ (exit $RC): got [$(tr '\n' ' ' <"$WORK/got")], want [$(tr '\n' ' ' <"$WORK/want")]" >>"$WORK/deferred"
ok
expect_eq "$(imgsum "$img")" "$before" "image checksum after reading UTF-8 names"
[ ! -s "$WORK/deferred" ] || fail "$(cat "$WORK/deferred")"
# every temporary file and folder the runs made is gone
expect_eq "$(ls -A "$TMPDIR")" "" "what is left in TMPDIR"

done_testing
