#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One command from a fresh Debian 12 machine: install what balena-img needs
# (apt-get, only when something is missing), build it in ./build, generate
# sample balenaOS images from fixtures/, configure a copy of one and run
# `balena-img info` on it.
set -eu
cd "$(dirname "$0")"
top=$(pwd)

# Build and runtime dependencies, then what the tests and fixtures use, then
# the hardening tools (make fuzz: clang and its libFuzzer runtime; valgrind).
DEPS="gcc make autoconf automake pkg-config libfdisk-dev libblkid-dev libext2fs-dev comerr-dev
      libjansson-dev libpng-dev libpng16-16 libnm-dev libnm0 libssl-dev libssl3 libarchive-dev libarchive13 check mtools
      fdisk dosfstools
      e2fsprogs jq cryptsetup-bin zip groff-base binutils openssh-client zlib1g-dev openssl
      patch util-linux bsdutils bmap-tools xz-utils zstd unzip gzip
      clang libclang-rt-14-dev valgrind strace"

# verify --deep (optional): libguestfs and a kernel for its appliance, about
# 135 MB to download and 625 MB installed, and guestfish, the heavyweight
# baseline of `make bench`; BALENA_IMG_DEEP=1 ./setup.sh adds them
if [ -n "${BALENA_IMG_DEEP:-}" ]; then
        DEPS="$DEPS libguestfs0 linux-image-amd64 guestfish"
fi

say() { printf '==> %s\n' "$*"; }

missing=
for pkg in $DEPS; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' ||
                missing="$missing $pkg"
done
if [ -n "$missing" ]; then
        sudo=
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        say "installing:$missing"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # shellcheck disable=SC2086
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                $missing >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
        say "generating the build system (autoreconf)"
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p build
cd build
if [ ! -f Makefile ] || [ ../configure -nt Makefile ]; then
        say "configuring in build/"
        ../configure --enable-werror --quiet
fi
say "building"
make -s -j"$(nproc)" >/dev/null
say "built $top/build/balena-img ($(./balena-img --version))"

say "generating sample balenaOS images in build/fixtures/out"
make -s fixtures/out/.stamp >/dev/null
# the main job on a copy of the sample: configure it, then show what it holds
sample=sample.img
cp --sparse=always fixtures/out/mbr-v8.img "$sample"
[ -f sample-key.pub ] || ssh-keygen -q -t ed25519 -N '' -C 'balena-img sample' -f sample-key
say "running: balena-img configure build/$sample --hostname balena-sample --ssh-key sample-key.pub --wifi-ssid Sample --wifi-key '...' --country GB --dev"
./balena-img configure "$sample" --hostname balena-sample --ssh-key sample-key.pub \
        --wifi-ssid Sample --wifi-key 'sample passphrase' --country GB --dev
say "running: balena-img info build/$sample"
./balena-img info "$sample"
