#!/usr/bin/env bash
# Interop matrix of `faxsim call` over G.711 A-law: endpoint pairs x modems x ECM x
# resolution x coding x 1 and 3 pages. A call passes when both sides report SUCCESS, the
# negotiated modem and coding are the ones asked for, and the received pages are
# pixel-identical to the source (both re-coded MH by `faxsim doc convert`, then compared
# byte for byte: the writer is deterministic, so equal files mean equal pixels).
# Usage: scripts/call-matrix.sh [FAXSIM] [WORKDIR]   (prints one line per call and a summary)
set -u
F=${1:-target/release/faxsim}
W=${2:-$(mktemp -d)}
mkdir -p "$W"
pairs="builtin:builtin builtin:spandsp spandsp:builtin"
pass=0; fail=0
for res in standard fine; do
  for n in 1 3; do
    "$F" doc testpage --kind impress --resolution $res --pages $n --out "$W/src-$res-$n.tif" >/dev/null
    "$F" doc convert --coding mh "$W/src-$res-$n.tif" "$W/src-$res-$n-mh.tif" >/dev/null
  done
done
for pair in $pairs; do
  a=${pair%:*}; b=${pair#*:}
  for modem in v17 v29 v27ter; do
    for ecm in on off; do
      if [ $ecm = on ]; then codings="mh mr mmr"; else codings="mh mr"; fi
      for coding in $codings; do
        for res in standard fine; do
          for n in 1 3; do
            out="$W/$a-$b-$modem-$ecm-$coding-$res-$n"
            line=$("$F" call --send "$W/src-$res-$n.tif" --caller $a --answerer $b \
              --modems $modem --ecm $ecm --codings $coding --out "$out" 2>&1)
            rc=$?
            want_modem=$(echo $modem | sed 's/v17/V.17/;s/v29/V.29/;s/v27ter/V.27ter/')
            want_coding=$(echo $coding | tr a-z A-Z)
            ok=0
            if [ $rc = 0 ] && [ "$(echo "$line" | grep -c "modem=$want_modem ecm=$( [ $ecm = on ] && echo yes || echo no) coding=$want_coding ")" = 2 ]; then
              "$F" doc convert --coding mh "$out/received.tif" "$out/received-mh.tif" >/dev/null 2>&1 \
                && cmp -s "$W/src-$res-$n-mh.tif" "$out/received-mh.tif" && ok=1
            fi
            if [ $ok = 1 ]; then pass=$((pass+1)); r=PASS; else fail=$((fail+1)); r=FAIL; fi
            echo "$r $a->$b $modem ecm=$ecm $coding $res pages=$n rc=$rc"
            [ $ok = 1 ] || echo "$line" | sed 's/^/    /'
          done
        done
      done
    done
  done
done
echo "matrix: $pass passed, $fail failed"
[ $fail = 0 ]
