# shellcheck shell=bash
# Sourced by bench/run after platform.sh: the two figures of erasure at scale
# (issue 22), on the same sample platform.
#
#   many  -- many subjects at once: N erasure requests of distinct subjects
#            (200; --quick: 40), approved together, dsrd's 2 workers against
#            hand SQL, one transaction per subject on 2 connections.
#            Subjects per minute; ratio dsrd over reference, >= 0.7.
#   large -- one very large subject: a designated subject with about 1,000,000
#            rows (--quick: 100,000) across calls, recordings, transcripts,
#            summaries and messages, erased end to end (approval to
#            completion); < 30 s and <= 1.5x the hand SQL. fig_export
#            (platform.sh) exports the same subject as its second size.
#
# The many subjects are ordinary people of the generated platform (contacts
# with an email, the first N by phone number), so the figure needs no change to
# the generator; the large subject is one more designated subject. Neither has
# media files (the platform is generated without media; a million small files
# would measure the disk). Both sides run on copies of the platform and must
# leave the same rows (plat_same).

lg_email=large.me@example.com lg_phone=+15550100703
if $quick; then
  many_n=40
  lg_rows=100000
else
  many_n=200
  lg_rows=1000000
fi
many_n=$((many_n * scale))
lg_rows=$((lg_rows * scale))
# About 2.66 rows per call (see plat_generate). The export figure exports the
# large subject too (its second size).
if want large || want export; then
  plat_extra+=(--subject-email "$lg_email" --subject-phone "$lg_phone"
    --subject-calls "$(((lg_rows * 100 + 265) / 266))")
fi

# many_pick DB: "email phone" of the figure's subjects, one per line, into $state/many.
many_pick() {
  plat_psql "$1" -At -F ' ' -v n="$many_n" >"$state/many" <<'SQL'
SELECT email, phone FROM (SELECT DISTINCT ON (phone) email, phone FROM contacts
  WHERE email IS NOT NULL AND phone IS NOT NULL ORDER BY phone, id) s
ORDER BY phone LIMIT :n;
SQL
  [ "$(wc -l <"$state/many")" -eq "$many_n" ] || die "many: found fewer than $many_n subjects"
}

# --- figure: many subjects at once --------------------------------------------
fig_many() {
  plat_generate
  local d=bench_many_dsrd r=bench_many_ref email phone rid ids=() t0 t1 td tr
  plat_clone "$plat_db" "$d"
  plat_clone "$plat_db" "$r"
  many_pick "$d"
  log "many: dsrd, $many_n erasure requests of distinct subjects (filing, verifying and discovery not timed)"
  # one client address files them all: the intake limits are not this figure's subject
  pdsrd_start "$d" "$state/no-media" --rate-intake-per-address=1000000 \
    --rate-intake-per-identity=1000000
  while read -r email phone; do
    rid=$(pd_post /v1/requests "{\"type\":\"erasure\",\"jurisdiction\":\"gdpr\",\"subject\":{\"email\":\"$email\",\"phone\":\"$phone\"}}" |
      sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p')
    [ -n "$rid" ] || die "many: POST /v1/requests gave no id"
    pd_act "$rid" '{"action":"verify","note":"bench"}'
    ids+=("$rid")
  done <"$state/many"
  local list
  list=$(printf "'%s'," "${ids[@]}")
  plat_wait "NOT EXISTS (SELECT 1 FROM dsr_jobs WHERE kind = 'discovery' AND state IN ('queued', 'running')) AND (SELECT count(DISTINCT request_id) FROM dsr_parts WHERE request_id IN (${list%,})) = $many_n" 3600
  t0=$(now_s)
  for rid in "${ids[@]}"; do pd_act "$rid" '{"action":"approve"}'; done
  plat_wait "(SELECT count(*) FROM dsr_requests WHERE id IN (${list%,}) AND status = 'completed') = $many_n" 3600
  t1=$(now_s)
  td=$(secs_between "$t0" "$t1")
  pdsrd_stop
  log "many: dsrd ${td} s for $many_n subjects"
  log "many: reference (sql/erasure.sql per subject, one transaction each, 2 connections)"
  t0=$(now_s)
  # shellcheck disable=SC2016
  BENCH_ERASURE_SQL=$bench/sql/erasure.sql xargs -P 2 -n 2 sh -c 'psql -X -q -v ON_ERROR_STOP=1 "$0" -At -v email="$1" -v phone="$2" \
      -v files=/dev/null -f "$BENCH_ERASURE_SQL" >/dev/null' "$(plat_url "$r")" <"$state/many" ||
    die "the many-subjects reference failed"
  t1=$(now_s)
  tr=$(secs_between "$t0" "$t1")
  log "many: reference ${tr} s"
  plat_finish many "$d" "$r"
  local pd pr ratio
  pd=$(awk -v n="$many_n" -v t="$td" 'BEGIN { printf "%.1f", n * 60 / t }')
  pr=$(awk -v n="$many_n" -v t="$tr" 'BEGIN { printf "%.1f", n * 60 / t }')
  ratio=$(ratio_of "$pd" "$pr")
  add_row "many subjects at once: $many_n erasures approved together, 2 workers" "subjects/min" \
    "$pd" "$pr" "sql/erasure.sql per subject, one transaction each, 2 connections" "$ratio" \
    ">= 0.70" "$(at_least "$ratio" 0.7)" "$(plat_fmt_rows "$plat_rows")-row platform"
}

# --- figure: one very large subject --------------------------------------------
fig_large() {
  plat_generate
  local d=bench_lg_dsrd r=bench_lg_ref td tr t0 t1 receipt nrows
  plat_clone "$plat_db" "$d"
  plat_clone "$plat_db" "$r"
  log "large: dsrd (a subject with about $lg_rows rows; discovery not timed)"
  pdsrd_start "$d" "$state/no-media"
  plat_request erasure "$lg_email" "$lg_phone"
  td=$(plat_approve_wait)
  receipt=$(psql_q -At -c "SELECT sum((data->>'rows_deleted')::bigint) FROM dsr_events e JOIN
      dsr_parts p ON p.id::text = e.data->>'part_id' WHERE p.request_id = '$plat_rid' AND
      e.kind = 'erasure.receipt'")
  pdsrd_stop
  log "large: dsrd ${td} s ($receipt rows deleted by its receipt)"
  DSR_PLATFORM_DSN=$(plat_url "$r") DSR_MEDIA_ROOT=$state/no-media "$bdir/dsrctl" \
    --state-dir="$state" policy explain --policy "$plat_policy" --email "$lg_email" \
    --phone "$lg_phone" >/dev/null || die "dsrctl policy explain failed on the reference's copy"
  log "large: reference (sql/erasure.sql, one transaction)"
  t0=$(now_s)
  plat_psql "$r" -At -v email="$lg_email" -v phone="$lg_phone" -v files=/dev/null \
    -f "$bench/sql/erasure.sql" >/dev/null || die "the large-subject reference failed"
  t1=$(now_s)
  tr=$(secs_between "$t0" "$t1")
  log "large: reference ${tr} s"
  plat_finish large "$d" "$r"
  nrows=${receipt:-0}
  local ratio
  ratio=$(ratio_of "$td" "$tr")
  add_row "one very large subject: $(printf "%'d" "$nrows") rows erased, approval to completion" \
    "s" "$td" "$tr" "sql/erasure.sql: the same DELETEs in one transaction" "$ratio" \
    "<= 1.5x and < 30 s" "$( [ "$(at_most "$ratio" 1.5)" = yes ] && [ "$(at_most "$td" 30)" = yes ] && echo yes || echo no)" ""
}
