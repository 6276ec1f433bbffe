#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# batch: 20 devices across three device types (GPT flasher, Jetson with boot on
# p12, legacy MBR). Outputs are read back with mtools, -j and shard runs give
# the same bytes as a serial run, and bad manifests write nothing.
. "$top_srcdir/tests/lib.sh"
cache_part_tables
export SOURCE_DATE_EPOCH=1700000000     # identical bytes in every run

cd "$WORK"
ssh-keygen -q -t ed25519 -N '' -C batch@test -f key
ssh-keygen -q -t ed25519 -N '' -C extra@test -f extra
before=$(for f in gpt-flasher gpt-boot12 legacy-2.7; do checksum "$FIXTURES/$f.img"; done)

# the base image of each device type, read where make check generated it
cat >fleet.json <<JSON
{
  "images": { "generic-amd64": "$FIXTURES/gpt-flasher.img",
              "jetson-nano": "$FIXTURES/gpt-boot12.img",
              "intel-nuc": "$FIXTURES/legacy-2.7.img" },
  "output": "out/{device_type}/{hostname}.img",
  "bmap": true,
  "settings": { "persistent-logging": true, "ssh-key": ["key.pub"],
                "config": { "country": "GB" } },
  "devices": "devices.csv"
}
JSON
types="generic-amd64 jetson-nano intel-nuc"
echo 'device_type,hostname,uuid,ssh-key,wifi-ssid,wifi-key,config.ntpServers' >devices.csv
i=1
while [ $i -le 20 ]; do
        t=$(echo $types | cut -d' ' -f$((i % 3 + 1)))
        extra='' wifi='' wkey=''
        [ $((i % 4)) -eq 0 ] && extra=extra.pub
        [ $((i % 5)) -eq 0 ] && wifi="Line $i" wkey="\"pass,word $i\""
        printf '%s,dev-%02d,%032x,%s,%s,%s,time%d.example.com\n' "$t" $i $i "$extra" "$wifi" \
                "$wkey" $i >>devices.csv
        i=$((i + 1))
done

expect_exit 0 "$BALENA_IMG" batch fleet.json --results serial.json
expect_stdout "20 of 20 images made"
expect_eq "$(jq '[.ok, .failed, .not_made] | join(" ")' -r serial.json)" "20 0 0" "serial counts"

# every output carries its own and the shared settings, read back with mtools
i=1
while [ $i -le 20 ]; do
        t=$(echo $types | cut -d' ' -f$((i % 3 + 1)))
        case $t in jetson-nano) fx=gpt-boot12 ;; generic-amd64) fx=gpt-flasher ;;
                   *) fx=legacy-2.7 ;; esac
        out=out/$t/dev-$(printf %02d $i).img
        [ -f "$out" ] && [ -f "$out.bmap" ] || fail "$out or its bmap is missing"
        p=$(fact $fx boot_part)
        m mtype "$out" "$p" ::/config.json >cfg.json
        expect_eq "$(jq -r .hostname cfg.json)" "dev-$(printf %02d $i)" "$out hostname"
        expect_eq "$(jq -r .uuid cfg.json)" "$(printf %032x $i)" "$out uuid"
        expect_eq "$(jq -r '[.persistentLogging, .country, .ntpServers] | join(" ")' cfg.json)" \
                "true GB time$i.example.com" "$out shared and CSV keys"
        keys=$(jq -r '.os.sshKeys | length' cfg.json)
        expect_eq "$keys" "$([ $((i % 4)) -eq 0 ] && echo 2 || echo 1)" "$out ssh keys"
        if [ $((i % 5)) -eq 0 ]; then
                # older OS versions name the profile resin-wifi
                m mtype "$out" "$p" ::/system-connections/balena-wifi >wifi 2>&1 ||
                        m mtype "$out" "$p" ::/system-connections/resin-wifi >wifi 2>&1 ||
                        fail "$out has no Wi-Fi profile: $(cat wifi)"
                grep -q "^ssid=Line $i$" wifi && grep -q "^psk=pass,word $i$" wifi ||
                        fail "$out Wi-Fi profile: $(cat wifi)"
                ok
        fi
        # sparse: the output takes about what its base takes on disk
        [ "$(du -k "$out" | cut -f1)" -le $(($(du -k "$FIXTURES/$fx.img" | cut -f1) + 2048)) ] ||
                fail "$out is not sparse: $(du -k "$out")"
        ok
        i=$((i + 1))
done
# the results' checksums are the files' (checked with openssl, not our code)
for n in 03 10 20; do
        out=$(jq -r ".devices[] | select(.hostname == \"dev-$n\") | .output" serial.json)
        expect_eq "$(openssl dgst -sha256 -r "$out" | cut -d' ' -f1)" \
                "$(jq -r ".devices[] | select(.hostname == \"dev-$n\") | .sha256" serial.json)" \
                "sha256 of $out"
done
run bmaptool copy --bmap out/jetson-nano/dev-01.img.bmap out/jetson-nano/dev-01.img copy.img
[ "$RC" -eq 0 ] && cmp -s copy.img out/jetson-nano/dev-01.img || fail "bmaptool copy of dev-01"
ok
rm -f copy.img
expect_eq "$(for f in gpt-flasher gpt-boot12 legacy-2.7; do checksum "$FIXTURES/$f.img"; done)" \
        "$before" "base images after the batch"

# -j 3 and three shards make the same bytes as the serial run
sums() { jq -c '[.devices[] | [.index, .output, .sha256, .status]] | sort' "$@"; }
rm -rf out
expect_exit 0 "$BALENA_IMG" batch fleet.json -j 3 --results parallel.json
expect_eq "$(sums parallel.json)" "$(sums serial.json)" "-j 3 results"
rm -rf out
for s in 1 2 3; do
        expect_exit 0 "$BALENA_IMG" batch fleet.json --shard $s/3 -j 2
        expect_eq "$(jq '.devices | length' fleet.results.shard-$s-of-3.json)" \
                "$([ $s -eq 3 ] && echo 6 || echo 7)" "shard $s size"
done
expect_eq "$(jq -s -c '[.[].devices[] | [.index, .output, .sha256, .status]] | sort' \
        fleet.results.shard-*-of-3.json)" "$(sums serial.json)" "three shards together"
expect_eq "$(ls out/*/*.img | wc -l)" 20 "outputs of the three shards"

# uuid: generate gives each device its own 32-hex uuid, recorded in the results;
# the base may be compressed (it is unpacked once, and that copy removed)
zstd -q "$FIXTURES/gpt-boot12.img" -o base.img.zst
cat >gen.json <<JSON
{ "images": { "jetson-nano": "base.img.zst" },
  "output": "gen/{index}-{uuid}.img",
  "settings": { "uuid": "generate" },
  "devices": [ {}, {}, { "hostname": "named" } ] }
JSON
expect_exit 0 "$BALENA_IMG" batch gen.json --no-checksum --json
uuids=$(jq -r '.devices[].generated.uuid' "$WORK/stdout")
expect_eq "$(echo "$uuids" | grep -c '^[0-9a-f]\{32\}$')" 3 "generated uuids"
expect_eq "$(echo "$uuids" | sort -u | wc -l)" 3 "distinct uuids"
u=$(echo "$uuids" | sed -n 3p)
m mtype "gen/3-$u.img" 12 ::/config.json >cfg.json
expect_eq "$(jq -r '[.uuid, .hostname] | join(" ")' cfg.json)" "$u named" "generated uuid in config.json"
expect_eq "$(jq -r '.devices[0].sha256' "$WORK/stdout")" "null" "--no-checksum"
expect_eq "$(ls gen | wc -l)" 3 "outputs of a compressed base, and nothing else"

# bad manifests: one line naming the entry, a non-zero exit, and no output at all
bad() {         # bad EXIT TEXT: run fleet.json as it is now
        rm -rf out
        expect_exit "$1" "$BALENA_IMG" batch fleet.json
        expect_one_line_error
        expect_stderr "$2"
        [ ! -e out ] || fail "a rejected manifest wrote $(find out | head -3)"
        ok
}
cp devices.csv good.csv
sed -i '7s/,,/,missing.pub,/' devices.csv
bad 3 "devices.csv:7"
cp good.csv devices.csv
sed -i '5s/dev-04/bad_host!/' devices.csv
bad 6 "devices.csv:5"
sed -i '1s/config.ntpServers/wifi-ssdi/' devices.csv
bad 6 "unknown setting 'wifi-ssdi'"
cp good.csv devices.csv
sed -i '3s/^[a-z-]*,/raspberrypi4-64,/' devices.csv
bad 6 "devices.csv:3: no base image for device type 'raspberrypi4-64'"
cp good.csv devices.csv
sed -i '4s/dev-03/dev-02/' devices.csv
sed -i '3s/^[a-z-]*,/generic-amd64,/; 4s/^[a-z-]*,/generic-amd64,/' devices.csv
bad 6 "would both write"
cp good.csv devices.csv
sed -i '6s/,0*5,/,not-a-uuid,/' devices.csv
bad 6 "devices.csv:6"
printf 'generic-amd64,"dev-x,%032x\n' 99 >>devices.csv
bad 6 "a quoted cell is not closed"
cp good.csv devices.csv
cp fleet.json good.json
sed -i "s|\"intel-nuc\": \"[^\"]*\"|\"intel-nuc\": \"$FIXTURES/mbr-v8.img\"|" fleet.json
bad 6 "is a raspberrypi4-64 image"
sed -i 's/"bmap": true,/"bmap": true,,/' fleet.json
bad 6 "fleet.json:"
cp good.json fleet.json
expect_exit 2 "$BALENA_IMG" batch fleet.json --shard 4/3
expect_one_line_error
expect_exit 2 "$BALENA_IMG" batch fleet.json -j 0
expect_one_line_error
expect_exit 2 "$BALENA_IMG" batch
expect_one_line_error

# a device failing while the batch runs: without --keep-going the run stops,
# with it the others are made; never a half-written or temporary file left
rm -rf out
mkdir -p out
: >out/jetson-nano              # a file where the folder should be
expect_exit 5 "$BALENA_IMG" batch fleet.json --no-checksum
expect_stderr "devices.csv:2: cannot create 'out/jetson-nano/dev-01.img'"
expect_eq "$(jq .failed fleet.results.json)" 1 "failed devices without --keep-going"
[ -z "$(find out -name '*balena-img*')" ] || fail "temporary files left: $(find out -name '*balena-img*')"
ok
expect_exit 5 "$BALENA_IMG" batch fleet.json --no-checksum --keep-going -j 2
expect_eq "$(jq -r '[.ok, .failed] | join(" ")' fleet.results.json)" "13 7" "--keep-going counts"
expect_eq "$(ls out/*/*.img | wc -l)" 13 "outputs made with --keep-going"
expect_eq "$(jq -r '[.devices[] | select(.status == "failed") | .device_type] | unique | join(" ")' \
        fleet.results.json)" "jetson-nano" "failed device type"
[ -z "$(find out -name '*balena-img*')" ] || fail "temporary files left with --keep-going"
ok
done_testing
