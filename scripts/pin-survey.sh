#!/usr/bin/env bash
# Runs scenarios on other master seeds (`faxsim run --seed N`) and counts, per scenario, the
# seeds on which it fails. A pin measured on one seed that fails on a few others sits on a knife
# edge: any change that only reshuffles the noise will flip it. Set it from the rate over many
# seeds instead (`repetitions` and `min_passing`, see scenarios/README.md).
# Usage: scripts/pin-survey.sh FIRST LAST [FAXSIM] [faxsim run arguments...]
#   e.g. scripts/pin-survey.sh 2 17 target/release/faxsim scenarios --tag channel
# Prints, per failing scenario, how many of the seeds it failed on, then the seeds run.
set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 FIRST LAST [FAXSIM] [faxsim run arguments...]" >&2
  exit 2
fi
first=$1; last=$2; shift 2
F=${1:-target/release/faxsim}; [ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- scenarios
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for seed in $(seq "$first" "$last"); do
  # One line per scenario when stdout is not a terminal: "FAIL <id>…" for a failure.
  "$F" run "$@" --seed "$seed" --out "$work/out" >"$work/$seed.txt" 2>&1
  grep -E '^FAIL ' "$work/$seed.txt" | awk -v s="$seed" '{sub(/:$/, "", $2); print $2, s}' \
    >>"$work/fails.txt"
  n=$((n + 1))
done
touch "$work/fails.txt"
if [ -s "$work/fails.txt" ]; then
  awk '{c[$1]++; s[$1] = s[$1] " " $2} END {for (k in c) printf "%3d  %s  (seeds%s)\n", c[k], k, s[k]}' \
    "$work/fails.txt" | sort -rn
else
  echo "no scenario failed"
fi
echo "seeds $first..$last ($n runs)"
