#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# configure (and splash) refuse every bad input before writing anything: config
# keys, SSH key files, root CAs, udev rules, NetworkManager options and keyfiles,
# proxy files and PNGs (balenaos-spec.md §3-§5). Each case expects its exit code
# (6 invalid value, 3 missing file, 2 usage), one line on stderr naming the key,
# option or file, and mbr-v8 unchanged: size and mtime after every case, the
# bytes of the MBR and the boot partition after every case, and the whole image
# (cksum) at the start, in the middle and at the end. One copy serves every case,
# since none of them may write.
. "$top_srcdir/tests/lib.sh"

for t in sfdisk jq cksum ssh-keygen openssl base64; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

bin=$BALENA_IMG
unset BALENA_IMG

img=$(fixture mbr-v8)
D=$WORK/in                      # the bad (and good) inputs
mkdir "$D"
# the first byte after the boot partition: what configure may write lies before it
boot_end=$(($(part_offset "$img" 1) + $(part_size "$img" 1)))

head_sum() { head -c "$boot_end" "$1" | cksum; }
# cheap state: size and mtime (nanoseconds: any write moves it) and the bytes of
# the MBR and the whole boot partition
state() { printf '%s %s\n' "$(stat -c '%s %y' "$1")" "$(head_sum "$1")"; }

full_before=$(checksum "$img")
before=$(state "$img")

# bad CODE TEXT ARGS...: "configure IMG ARGS..." exits CODE (not a signal) with one
# line of stderr that matches TEXT (grep BRE), and the image is as it was
CASES=0
bad() {
        code=$1 text=$2
        shift 2
        run "$bin" configure "$img" "$@"
        [ "$RC" -lt 128 ] || fail "configure $*: killed by signal $((RC - 128))"
        [ "$RC" -eq "$code" ] || fail "configure $*: exit $RC, want $code: $(head -c 600 "$WORK/stderr")"
        ok
        expect_one_line_error
        grep -q -- "$text" "$WORK/stderr" ||
                fail "configure $*: stderr lacks '$text': $(head -c 600 "$WORK/stderr")"
        ok
        expect_eq "$(state "$img")" "$before" "image after configure $*"
        CASES=$((CASES + 1))
}
# also: the message says why (a second substring)
why() { expect_stderr "$1"; }

# ---------------------------------------------------------------- hostname
bad 6 hostname --hostname 'bad_host!'
bad 6 hostname --hostname "$(printf '%064d' 0 | tr 0 a)"
bad 6 hostname --hostname=-lead
bad 6 hostname --hostname ''
bad 6 hostname --hostname 'a.b'

# ---------------------------------------------------------------- country
bad 6 country --country gb
bad 6 country --country XX
bad 6 country --country GBR

# ---------------------------------------------------------------- NTP and DNS servers
bad 6 ntpServers --ntp-servers 'a  b'
bad 6 ntpServers --ntp-servers 'pool.ntp.org '
bad 6 ntpServers --ntp-servers 'bad..host'
bad 6 dnsServers --dns-servers ''
bad 6 dnsServers --dns-servers '1.1.1.1  8.8.8.8'
bad 6 dnsServers --dns-servers '1.1.1.1,8.8.8.8'

# ---------------------------------------------------------------- --set on the schema
# arrays and objects where the OS reads a scalar, scalars where it reads an object
bad 6 hostname --set 'hostname=["a"]'
bad 6 dnsServers --set 'dnsServers=["8.8.8.8"]'
bad 6 ntpServers --set 'ntpServers={"a":"b"}'
bad 6 persistentLogging --set 'persistentLogging="yes"'
bad 6 "'os'" --set 'os=5'
bad 6 os.sshKeys --set 'os.sshKeys="x"'
bad 6 os.udevRules --set 'os.udevRules=["x"]'
bad 6 apiEndpoint --set apiEndpoint=api.balena-cloud.com
bad 6 apiEndpoint --set apiEndpoint=https://api.balena-cloud.com/
bad 6 uuid --set uuid=0123456789ABCDEF0123456789ABCDEF
bad 6 uuid --set uuid=abc123
bad 6 listenPort --set listenPort=70000
bad 6 os.network.connectivity.interval --connectivity-interval abc
bad 6 os.fan.profile --set os.fan.profile=loud
bad 2 '--set' --set hostname
bad 2 '--replace-config' --replace-config

# ---------------------------------------------------------------- balenaRootCA
printf 'this is not a certificate\nat all\n' >"$D/garbage.pem"
bad 6 garbage.pem --root-ca "$D/garbage.pem"
openssl genpkey -algorithm ed25519 -out "$D/ca-key.pem" 2>/dev/null || fail "openssl genpkey failed"
bad 6 ca-key.pem --root-ca "$D/ca-key.pem"
why private
: >"$D/empty.pem"
bad 6 empty.pem --root-ca "$D/empty.pem"
bad 3 nothere.pem --root-ca "$D/nothere.pem"

# ---------------------------------------------------------------- SSH keys
ssh-keygen -q -t ed25519 -N '' -C ed@test -f "$D/id_ed25519" || fail "ssh-keygen ed25519 failed"
ssh-keygen -q -t rsa -b 1024 -N '' -C rsa1024@test -f "$D/id_rsa1024" || fail "ssh-keygen rsa failed"
# the private key given by mistake
bad 6 id_ed25519 --ssh-key "$D/id_ed25519"
why private
# ssh-dss: made by ssh-keygen where it still can, else a well-formed line by hand
if ! ssh-keygen -q -t dsa -N '' -f "$D/id_dsa" 2>/dev/null; then
        printf 'ssh-dss %s dsa@test\n' "$( {
                printf '\000\000\000\007ssh-dss'
                for _ in p q g y; do
                        printf '\000\000\000\024'
                        head -c 20 /dev/urandom
                done
        } | base64 -w0)" >"$D/id_dsa.pub"
fi
bad 6 ssh-dss --ssh-key "$D/id_dsa.pub"
why id_dsa.pub
bad 6 1024 --ssh-key "$D/id_rsa1024.pub"
why id_rsa1024.pub
# base64 with a character that is not base64 in the middle
awk '{ $2 = substr($2, 1, 30) "*" substr($2, 32); print }' "$D/id_ed25519.pub" >"$D/corrupt.pub"
bad 6 corrupt.pub --ssh-key "$D/corrupt.pub"
# the base64 decodes, but to 3 bytes fewer than the key holds
awk '{ $2 = substr($2, 1, length($2) - 4); print }' "$D/id_ed25519.pub" >"$D/short.pub"
bad 6 short.pub --ssh-key "$D/short.pub"
# an ed25519 blob under the name ssh-rsa
awk '{ $1 = "ssh-rsa"; print }' "$D/id_ed25519.pub" >"$D/mismatch.pub"
bad 6 mismatch.pub --ssh-key "$D/mismatch.pub"
why ssh-ed25519
: >"$D/empty.pub"
bad 6 empty.pub --ssh-key "$D/empty.pub"
bad 3 missing.pub --ssh-key "$D/missing.pub"

# ---------------------------------------------------------------- udev rules
printf 'ACTION=="add", SUBSYSTEM=="net", NAME="lan0"\n' >"$D/good.rules"
cd "$D"
bad 6 '\.\./x' --udev-rule "../x=good.rules"
cd "$WORK"
bad 6 65-resin-update-state --udev-rule "65-resin-update-state=$D/good.rules"
: >"$D/empty.rules"
bad 6 empty.rules --udev-rule "$D/empty.rules"
printf '# only a comment\n\n' >"$D/comment.rules"
bad 6 comment.rules --udev-rule "$D/comment.rules"
printf 'KERNEL "sda"\n' >"$D/nooperator.rules"
bad 6 'nooperator.rules:1' --udev-rule "$D/nooperator.rules"
# systemd-udevd refuses an empty NAME= ("Ignoring NAME="", as udev will not delete
# any network interfaces") and drops the line: the rule would silently do nothing
printf 'ACTION=="add", SUBSYSTEM=="net", NAME=""\n' >"$D/emptyname.rules"
bad 6 'emptyname.rules:1' --udev-rule "$D/emptyname.rules"
why NAME
# udev refuses NAME="%k" too ("it will take no effect"), dropping the line
printf 'SUBSYSTEM=="net", ACTION=="add", NAME="%%k"\n' >"$D/name-k.rules"
bad 6 'name-k.rules:1' --udev-rule "$D/name-k.rules"
why NAME
printf 'ACTION=="add"\r\n' >"$D/crlf.rules"
bad 6 'crlf.rules:1' --udev-rule "$D/crlf.rules"
bad 3 missing.rules --udev-rule "$D/missing.rules"
# NAME=FILE with a NAME that is not a name (and no '/' that would make it a path)
bad 6 "'a\.b'" --udev-rule "a.b=$D/good.rules"

# ---------------------------------------------------------------- generated NM profiles
bad 6 --wifi-key --wifi-ssid MyNet --wifi-key 1234567
bad 6 --wifi-key --wifi-ssid MyNet --wifi-key "$(printf '%064d' 0 | tr 0 g)"
bad 6 --wifi-ssid --wifi-ssid "$(printf '%033d' 0 | tr 0 s)"
bad 6 --wifi-ssid --wifi-ssid ''
bad 6 --static-ip --static-ip 10.0.0.1/33
bad 6 --static-ip --static-ip 10.0.0.1
bad 6 --static-ip --static-ip 10.0.0.256/24
bad 6 --gateway --static-ip 10.0.0.5/24 --gateway fd00::1
bad 6 --dns --static-ip 10.0.0.5/24 --dns 1.1.1.1,dns.example
bad 2 --wifi-ssid --wifi-key secret123
bad 2 --apn --apn-user u

# ---------------------------------------------------------------- --system-connection
profile() {
        cat <<'EOF'
[connection]
id=office
type=wifi

[wifi]
ssid=office
mode=infrastructure

[wifi-security]
key-mgmt=wpa-psk
psk=correcthorse

[ipv4]
method=auto
EOF
}
profile >"$D/wifi.config"
bad 6 wifi.config --system-connection "$D/wifi.config"
why 'ignore'
profile >"$D/.hidden"
bad 6 '\.hidden' --system-connection "$D/.hidden"
why 'ignore'
profile >"$D/backup~"
bad 6 'backup~' --system-connection "$D/backup~"
why 'ignore'
profile >"$D/x.pem"
bad 6 'x\.pem' --system-connection "$D/x.pem"
why 'ignore'
profile | grep -v '^type=' >"$D/notype"
bad 6 notype --system-connection "$D/notype"
why 'type'
profile | sed 's/^key-mgmt=.*/key-mgmt=bogus/' >"$D/bogus-mgmt"
bad 6 bogus-mgmt --system-connection "$D/bogus-mgmt"
why 'key-mgmt'
profile | sed 's/^psk=/pks=/' >"$D/misspelt"
bad 6 misspelt --system-connection "$D/misspelt"
why 'pks'
printf 'just text\n' >"$D/notini"
bad 6 notini --system-connection "$D/notini"
bad 3 nosuch-profile --system-connection "$D/nosuch-profile"

# ---------------------------------------------------------------- proxy
printf '10.1.0.0/16\n\n192.0.2.7\n' >"$D/np-blank"
bad 6 np-blank --no-proxy "$D/np-blank"
why 'line 2'
printf '10.1.0.0/16\n# office\n192.0.2.7\n' >"$D/np-comment"
bad 6 np-comment --no-proxy "$D/np-comment"
why 'line 2'
printf '10.1.0.0/16\r\n192.0.2.7\r\n' >"$D/np-crlf"
bad 6 np-crlf --no-proxy "$D/np-crlf"
why 'line 1'
printf '10.1.0.0/33\n' >"$D/np-prefix"
bad 6 np-prefix --no-proxy "$D/np-prefix"
bad 3 np-missing --no-proxy "$D/np-missing"
cat >"$D/rs-nosection" <<'EOF'
base {
        log_debug = off;
        log_info = on;
        log = stderr;
        daemon = off;
        redirector = iptables;
}
EOF
bad 6 rs-nosection --proxy "$D/rs-nosection"
why redsocks
redsocks() {
        cat <<EOF
base {
        log_debug = off;
        log_info = on;
        log = stderr;
        daemon = off;
        redirector = iptables;
}

redsocks {
        type = $1;
        ip = 192.0.2.10;
        port = 1080;
        local_ip = 127.0.0.1;
        local_port = 12345;
}
EOF
}
redsocks ftp >"$D/rs-ftp"
bad 6 rs-ftp --proxy "$D/rs-ftp"
why ftp
redsocks socks5 | sed 's/port = 1080;/port = 1080/' >"$D/rs-nosemicolon"
bad 6 rs-nosemicolon --proxy "$D/rs-nosemicolon"
bad 3 rs-missing --proxy "$D/rs-missing"

# ---------------------------------------------------------------- splash PNGs
# also through the splash command: the same checks, the same words
badpng() {
        bad "$@"
        code=$1 text=$2
        shift 3
        run "$bin" splash "$img" "$1"
        [ "$RC" -eq "$code" ] || fail "splash $1: exit $RC, want $code: $(head -c 600 "$WORK/stderr")"
        ok
        expect_one_line_error
        expect_stderr "$text"
        expect_eq "$(state "$img")" "$before" "image after splash $1"
}
# a valid PNG: 1x1 RGBA, written byte by byte (this test needs no PNG tool)
printf '\211PNG\015\012\032\012\000\000\000\015IHDR\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000\000\015IDATx\332c```\370\017\000\001\004\001\000\200\273\321[\000\000\000\000IEND\256B`\202' >"$D/good.png"
[ "$(cksum <"$D/good.png")" = "$(printf '%s' '2602214126 70')" ] || fail "good.png was not written as meant"
{ printf '\377\330\377\340\000\020JFIF\000'; head -c 2000 /dev/urandom; } >"$D/photo.png"
badpng 6 photo.png --splash "$D/photo.png"
why JPEG
printf '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n' >"$D/logo-svg.png"
badpng 6 logo-svg.png --splash "$D/logo-svg.png"
why SVG
# the first 100 bytes of the image's own logo (159 bytes, a valid PNG)
m mtype "$img" 1 ::/splash/balena-logo.png >"$D/orig-logo.png" || fail "mtype the logo failed"
[ "$(wc -c <"$D/orig-logo.png")" -gt 100 ] || fail "the fixture's logo is too small to cut"
head -c 100 "$D/orig-logo.png" >"$D/cut.png"
badpng 6 cut.png --splash "$D/cut.png"
why truncated
: >"$D/empty.png"
badpng 6 empty.png --splash "$D/empty.png"
why empty
badpng 3 absent.png --splash "$D/absent.png"

expect_eq "$(checksum "$img")" "$full_before" "the whole image after $CASES cases"

# ---------------------------------------------------------------- everything valid but one
openssl req -x509 -newkey ed25519 -nodes -keyout "$D/ca.key" -out "$D/ca.pem" -days 30 \
        -subj /CN=balena-img-test 2>/dev/null || fail "openssl req failed"
profile >"$D/office"
printf '10.1.0.0/16\n192.0.2.7\n' >"$D/no_proxy"
redsocks socks5 >"$D/redsocks.conf"
# the good options are good: a dry run of them (with the good PNG) succeeds
run "$bin" configure "$img" --hostname good-host --country GB --ntp-servers time.example.com \
        --dns-servers 1.1.1.1 --dev --persistent-logging --set listenPort=48485 \
        --ssh-key "$D/id_ed25519.pub" --udev-rule "64-lan=$D/good.rules" \
        --root-ca "$D/ca.pem" --connectivity-interval 600 \
        --wifi-ssid MyNet --wifi-key secret123 --apn internet \
        --system-connection "$D/office" --proxy "$D/redsocks.conf" \
        --no-proxy "$D/no_proxy" --splash "$D/good.png" --dry-run
[ "$RC" -lt 128 ] || fail "the good options in a dry run: killed by signal $((RC - 128))"
[ "$RC" -eq 0 ] || fail "the good options in a dry run: exit $RC: $(head -c 600 "$WORK/stderr")"
ok
expect_stdout 'resin-wifi'
expect_stdout 'balena-logo.png'
expect_eq "$(state "$img")" "$before" "image after the dry run"
# the same with a bad PNG last, and with a bad key file last
bad 6 photo.png --hostname good-host --country GB --ntp-servers time.example.com \
        --dns-servers 1.1.1.1 --dev --persistent-logging --set listenPort=48485 \
        --ssh-key "$D/id_ed25519.pub" --udev-rule "64-lan=$D/good.rules" \
        --root-ca "$D/ca.pem" --connectivity-interval 600 \
        --wifi-ssid MyNet --wifi-key secret123 --apn internet \
        --system-connection "$D/office" --proxy "$D/redsocks.conf" \
        --no-proxy "$D/no_proxy" --splash "$D/photo.png"
bad 6 np-crlf --hostname good-host --country GB --ntp-servers time.example.com \
        --dns-servers 1.1.1.1 --dev --persistent-logging --set listenPort=48485 \
        --ssh-key "$D/id_ed25519.pub" --udev-rule "64-lan=$D/good.rules" \
        --root-ca "$D/ca.pem" --connectivity-interval 600 \
        --wifi-ssid MyNet --wifi-key secret123 --apn internet \
        --system-connection "$D/office" --proxy "$D/redsocks.conf" \
        --splash "$D/good.png" --no-proxy "$D/np-crlf"
bad 6 id_ed25519 --hostname good-host --splash "$D/good.png" --proxy "$D/redsocks.conf" \
        --wifi-ssid MyNet --wifi-key secret123 --ssh-key "$D/id_ed25519.pub" \
        --ssh-key "$D/id_ed25519"

# ---------------------------------------------------------------- --device-type
bad 6 intel-nuc --device-type intel-nuc --hostname good-host
why raspberrypi4-64
bad 6 raspberrypi4 --device-type raspberrypi4 --splash "$D/good.png"

expect_eq "$(checksum "$img")" "$full_before" "the whole image at the end"
[ "$CASES" -ge 40 ] || fail "only $CASES cases"
echo "# $CASES bad inputs" >&2
done_testing
