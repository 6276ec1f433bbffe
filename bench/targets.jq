# SPDX-License-Identifier: Apache-2.0
# Input: the runner's case objects (jq -s). Output: bench/results.json, the
# cases and issue 6's targets, each with its measured value (rounded to four
# places) and limit; whether it is met is judged on the unrounded value.
def median(c; n): first(.[] | select(.case == c) | .variants[] | select(.name == n) | .median_ms) // null;
def rss(c): [.[] | select(.case == c) | .variants[] | select(.name | startswith("balena-img")) | .peak_rss_kb] | max;
def r4: . * 10000 | round / 10000;
. as $cases
| median("configure"; "balena-img") as $cfg
| {
    cases: $cases,
    targets: ([
      {name: "configure in place / shell+mtools+jq (median ratio)",
       value: ($cfg / median("configure"; "shell-mtools-jq")), limit: "<= 0.25"},
      {name: "configure in place / floor (one mcopy per file)",
       value: ($cfg / median("configure"; "floor")), limit: "<= 2"},
      (if median("configure"; "node") then
        {name: "Node (balena-image-fs + balena-config-json) / configure in place",
         value: (median("configure"; "node") / $cfg), limit: ">= 30"} else empty end),
      {name: "info median ms", value: median("info"; "balena-img"), limit: "<= 10"},
      {name: "config get median ms", value: median("config-get"; "balena-img"), limit: "<= 5"},
      {name: "peak RSS MiB, largest of the balena-img runs",
       value: ([$cases[].case] | map(. as $c | $cases | rss($c)) | max / 1024), limit: "<= 16"},
      (if median("configure-guestfish"; "guestfish") then
        {name: "guestfish / configure in place (informational)",
         value: (median("configure-guestfish"; "guestfish") / $cfg | round), limit: ">= 1"} else empty end),
      {name: "configure 30 GB / 1.7 GB apparent size (median ratio)",
       value: (median("configure-size"; "balena-img-30GB") / median("configure-size"; "balena-img-1.7GB")),
       limit: "0.8 .. 1.2"},
      {name: "configure, boot partition stored dense / sparse (median ratio, informational)",
       value: (median("configure-size"; "balena-img-dense-boot") / median("configure-size"; "balena-img-1.7GB")),
       limit: "0.8 .. 1.2"}
    ] | map(. + {met: (
        if .limit | startswith("<= ") then .value <= (.limit[3:] | tonumber)
        elif .limit | startswith(">= ") then .value >= (.limit[3:] | tonumber)
        else (.value > 0.8 and .value < 1.2) end)} | .value |= r4))
  }
