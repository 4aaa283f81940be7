# shellcheck shell=bash
# Sourced by bench/run: the figures on the sample platform (erasure, retention
# sweep, access export). Uses run's state, sock, psql_q, bdir, dsrd_bin, log,
# die, add_row, ratio_of, quick and scale. See bench/README.md.
#
# One platform is generated once (dsrctl sample generate, fixed seed and
# --now, no media) with two designated subjects: one with 1,000 calls to
# erase, one with enough calls for the export. Figures that change data run
# each side on its own copy (CREATE DATABASE ... TEMPLATE), so both sides start
# from identical rows, and afterwards the row count of every table must be the
# same on both copies: a side that did less (or more) stops the run.

plat_policy=$top/policies/callcenter-ai.json
plat_db=bench_platform
plat_seed=11
er_email=erase.me@example.com er_phone=+15550100701 er_calls=1000
ex_email=export.me@example.com ex_phone=+15550100702
if $quick; then
  plat_subjects=$((40000 * scale))
  sweep_sizes="$((10000 * scale)) $((100000 * scale))"
  : "${export_rows:=20000}"
else
  plat_subjects=$((440000 * scale))
  sweep_sizes="$((100000 * scale)) $((1000000 * scale))"
  : "${export_rows:=100000}"
fi
sweep_period="30 days"
plat_ready=false
plat_extra=() # more designated subjects (generator arguments), added by other figures' files
plat_rows=
plat_staff=
pd_pid=
pd_base=

plat_url() { echo "host=$sock port=5432 user=dsrd dbname=$1"; }
plat_psql() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 "$(plat_url "$db")" "$@"; }
now_s() { date +%s.%N; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# The platform, once per run. The export subject's call count is sized from
# --export-rows (about 2.66 rows per call: the call, its recording, transcript,
# summary, and some voicemails and CRM links); the figure reports the rows the
# package really held.
plat_generate() {
  $plat_ready && return 0
  local calls=$(((export_rows * 100 + 265) / 266))
  log "platform: generating $plat_subjects subjects (seed $plat_seed, no media), an erasure subject with $er_calls calls and an export subject with $calls calls"
  psql_q -c "DROP DATABASE IF EXISTS $plat_db" -c "CREATE DATABASE $plat_db"
  local t0 t1
  t0=$(now_s)
  "$bdir/dsrctl" --state-dir="$state" sample generate --platform-url "$(plat_url "$plat_db")" \
    --reset --subjects "$plat_subjects" --seed "$plat_seed" --now 2026-01-01 --no-media \
    --backup-sets 0 --json --subject-email "$er_email" --subject-phone "$er_phone" \
    --subject-calls "$er_calls" --subject-email "$ex_email" --subject-phone "$ex_phone" \
    --subject-calls "$calls" "${plat_extra[@]}" >"$state/platform.json" 2>"$state/platform.log" ||
    { tail -n 5 "$state/platform.log" >&2; die "sample generate failed"; }
  t1=$(now_s)
  plat_rows=$(sed -n 's/^  "rows_total": \([0-9]*\),$/\1/p' "$state/platform.json")
  [ -n "$plat_rows" ] || die "no rows_total in the generator's manifest"
  log "platform: $plat_rows rows in $(secs_between "$t0" "$t1") s"
  plat_staff=$("$bdir/dsrctl" --state-dir="$state" staff token create --role admin \
    --name bench-staff 2>/dev/null | sed -n 's/^token: //p')
  [ -n "$plat_staff" ] || die "dsrctl staff token create failed"
  plat_ready=true
}

plat_clone() { psql_q -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2 TEMPLATE $1"; }
plat_drop() { psql_q -c "DROP DATABASE IF EXISTS $1"; }

# plat_counts DB: "table=rows" of every table of the platform, exact.
plat_counts() {
  plat_psql "$1" -At -c "SELECT string_agg(t || '=' || (xpath('/row/c/text()',
      query_to_xml(format('SELECT count(*) AS c FROM public.%I', t), false, true, '')))[1]::text,
      ' ' ORDER BY t) FROM (SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public') s"
}

# plat_same NAME DB_A DB_B: stops the run unless both copies hold the same
# number of rows in every table (both sides did the same work).
plat_same() {
  local a b
  a=$(plat_counts "$2")
  b=$(plat_counts "$3")
  if [ "$a" != "$b" ]; then
    log "$1: dsrd's copy:      $a"
    log "$1: reference's copy: $b"
    die "$1: dsrd and the reference did not remove the same rows (above)"
  fi
}

# plat_finish NAME DB_A DB_B: plat_same, then both copies go.
plat_finish() {
  plat_same "$1" "$2" "$3"
  plat_drop "$2"
  plat_drop "$3"
}

# plat_wait CONDITION SECONDS: waits, in one database session polling every
# 20 ms, until the SQL condition holds in dsrd's database; fails after SECONDS,
# or as soon as a job failed (a retry would flatter nothing: it stops the run).
plat_wait() {
  psql_q -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
      WHILE NOT ($1) LOOP
        IF clock_timestamp() - t0 > interval '$2 seconds' THEN
          RAISE EXCEPTION 'bench: timed out after $2 s waiting for: %', \$c\$$1\$c\$;
        END IF;
        IF EXISTS (SELECT 1 FROM dsr_jobs WHERE last_error IS NOT NULL
            AND kind IN ('discovery', 'erasure', 'export')) THEN
          RAISE EXCEPTION 'bench: a job failed: %', (SELECT kind || ': ' || last_error
            FROM dsr_jobs WHERE last_error IS NOT NULL
            AND kind IN ('discovery', 'erasure', 'export') LIMIT 1);
        END IF;
        PERFORM pg_sleep(0.02);
      END LOOP; END \$\$" ||
    die "waiting failed; dsrd log: $state/pdsrd.log"
}

# pdsrd_start DB MEDIA_ROOT [ARG...]: a second dsrd with the bench policy and
# default settings (HTTP and 2 workers; ARGs added) on the shared cluster, its
# platform store being DB. The daily retention sweep it schedules is removed so
# that it cannot run in the middle of a figure.
pdsrd_start() {
  # Jobs left by the HTTP figures (verification messages of their synthetic
  # requests) are not this figure's work.
  psql_q -c "DELETE FROM dsr_jobs WHERE state = 'queued'"
  : >"$state/pdsrd.out"
  : >"$state/pdsrd.log"
  DSR_PLATFORM_DSN=$(plat_url "$1") DSR_MEDIA_ROOT=$2 "$dsrd_bin" --state-dir="$state" --port=0 \
    --policy-file="$plat_policy" "${@:3}" >"$state/pdsrd.out" 2>"$state/pdsrd.log" &
  pd_pid=$!
  echo "$pd_pid" >"$state/pdsrd.pid"
  local i port=
  for i in $(seq 1 600); do
    port=$(sed -n 's|^dsrd listening on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$state/pdsrd.out")
    [ -n "$port" ] && grep -q 'event=worker.started' "$state/pdsrd.log" && break
    kill -0 "$pd_pid" 2>/dev/null || { tail -n 20 "$state/pdsrd.log" >&2; die "the policy dsrd exited"; }
    sleep 0.1
  done
  [ -n "$port" ] || die "the policy dsrd did not start within 60 s"
  pd_base=http://127.0.0.1:$port
  psql_q -c "DELETE FROM dsr_jobs WHERE kind = 'retention_sweep' AND state = 'queued'"
}

pdsrd_stop() {
  kill -TERM "$pd_pid"
  wait "$pd_pid" || true
  : >"$state/pdsrd.pid"
  pd_pid=
  if grep -qE 'level=(warn|error)' "$state/pdsrd.log"; then
    grep -E 'level=(warn|error)' "$state/pdsrd.log" | head -n 5 >&2
    die "the policy dsrd logged warnings or errors (above); log: $state/pdsrd.log"
  fi
}

# VmHWM (peak resident set) of a process, in KiB.
peak_rss_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status"; }

pd_post() {
  curl -sS -f -X POST "$pd_base$1" -H 'Content-Type: application/json' "${@:3}" -d "$2" ||
    die "POST $1 failed; dsrd log: $state/pdsrd.log"
}
pd_act() { pd_post "/v1/admin/requests/$1/actions" "$2" -H "Authorization: Bearer $plat_staff" >/dev/null; }

# plat_request TYPE EMAIL PHONE: files a request through the policy dsrd,
# verifies it by staff and waits for discovery to split it into parts (not
# measured). Sets plat_rid.
plat_request() {
  local out
  out=$(pd_post /v1/requests "{\"type\":\"$1\",\"jurisdiction\":\"gdpr\",\"subject\":{\"email\":\"$2\",\"phone\":\"$3\"}}")
  plat_rid=$(sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p' <<<"$out")
  [ -n "$plat_rid" ] || die "POST /v1/requests answered $out"
  pd_act "$plat_rid" '{"action":"verify","note":"bench"}'
  plat_wait "EXISTS (SELECT 1 FROM dsr_parts WHERE request_id = '$plat_rid') AND NOT EXISTS (SELECT 1 FROM dsr_jobs WHERE kind = 'discovery' AND state IN ('queued', 'running'))" 1800
}

# plat_approve_wait: staff approve plat_rid's parts; waits until the request is
# completed. Prints the seconds from the approval to completion.
plat_approve_wait() {
  local t0 t1
  t0=$(now_s)
  pd_act "$plat_rid" '{"action":"approve"}'
  plat_wait "EXISTS (SELECT 1 FROM dsr_requests WHERE id = '$plat_rid' AND status = 'completed')" 3600
  t1=$(now_s)
  secs_between "$t0" "$t1"
}

# plat_media DB DIR: writes a small file for each recording and voicemail of
# the erasure subject (the platform is generated without media).
plat_media() {
  local dir=$2 p blob
  rm -rf "$dir"
  mkdir -p "$dir"
  plat_psql "$1" -At -v phone="$er_phone" -v email="$er_email" >"$dir.list" <<'SQL'
SELECT file_path FROM recordings WHERE call_id IN (SELECT id FROM calls
  WHERE caller_number = :'phone' OR called_number = :'phone' OR contact_id IN
  (SELECT id FROM contacts WHERE phone = :'phone' OR lower(email) = lower(:'email')))
UNION ALL SELECT file_path FROM voicemails WHERE caller_number = :'phone' OR call_id IN
  (SELECT id FROM calls WHERE caller_number = :'phone' OR called_number = :'phone');
SQL
  sed -n 's|/[^/]*$||p' "$dir.list" | sort -u | (cd "$dir" && xargs -r mkdir -p)
  blob=$(head -c 24000 /dev/zero | tr '\0' 'x')
  while read -r p; do printf '%s' "$blob" >"$dir/$p"; done <"$dir.list"
  plat_files=$(wc -l <"$dir.list")
  rm -f "$dir.list"
}

# --- figure: erasure -------------------------------------------------------------
fig_erasure() {
  plat_generate
  local d=bench_er_dsrd r=bench_er_ref md=$state/media_er_dsrd mr=$state/media_er_ref td tr
  plat_clone "$plat_db" "$d"
  plat_clone "$plat_db" "$r"
  plat_media "$d" "$md"
  plat_media "$r" "$mr"
  log "erasure: dsrd (subject with $er_calls calls, $plat_files files, $plat_rows-row platform)"
  pdsrd_start "$d" "$md"
  plat_request erasure "$er_email" "$er_phone"
  td=$(plat_approve_wait)
  local receipt
  receipt=$(psql_q -At -c "SELECT sum((data->>'rows_deleted')::bigint) || ' rows, ' ||
      sum((data->>'files_removed')::bigint) || ' files' FROM dsr_events e JOIN dsr_parts p
      ON p.id::text = e.data->>'part_id' WHERE p.request_id = '$plat_rid' AND e.kind = 'erasure.receipt'")
  pdsrd_stop
  log "erasure: dsrd ${td} s ($receipt by its receipt)"
  # dsrd's discovery read the subject's rows before the timed part; the same
  # plan is computed on the reference's copy (dsrctl policy explain), so that
  # both copies are equally warm.
  DSR_PLATFORM_DSN=$(plat_url "$r") DSR_MEDIA_ROOT=$mr "$bdir/dsrctl" --state-dir="$state" \
    policy explain --policy "$plat_policy" --email "$er_email" --phone "$er_phone" >/dev/null ||
    die "dsrctl policy explain failed on the reference's copy"
  log "erasure: reference (sql/erasure.sql, one transaction, then unlink)"
  local t0 t1
  t0=$(now_s)
  plat_psql "$r" -At -v email="$er_email" -v phone="$er_phone" -v files="$state/er_files" \
    -f "$bench/sql/erasure.sql" >/dev/null || die "the erasure reference failed"
  (cd "$mr" && xargs -r -d '\n' rm -f -- <"$state/er_files")
  t1=$(now_s)
  tr=$(secs_between "$t0" "$t1")
  log "erasure: reference ${tr} s ($(wc -l <"$state/er_files") files)"
  plat_same erasure "$d" "$r"
  [ "$(find "$md" -type f | wc -l)" -eq 0 ] && [ "$(find "$mr" -type f | wc -l)" -eq 0 ] ||
    die "erasure: files of the subject were left behind"
  plat_drop "$d"
  plat_drop "$r"
  rm -rf "$md" "$mr"
  local ratio
  ratio=$(ratio_of "$td" "$tr")
  add_row "erasure: 1 subject, $er_calls calls, $(plat_fmt_rows "$plat_rows")-row platform" "s" "$td" \
    "$tr" "sql/erasure.sql: the same DELETEs in one transaction, then the same unlinks" "$ratio" \
    "<= 1.0x" "$(at_most "$ratio" 1.0)" "$receipt"
}

plat_fmt_rows() { awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%.1fM", n / 1e6; else printf "%dk", n / 1e3 }'; }
at_most() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "-" && r + 0 <= t + 0) ? "yes" : "no" }'; }

# --- figure: retention sweep ---------------------------------------------------------
# The bench policy with its retention rules reduced to recordings older than
# $sweep_period (an age rule on created_at) and what goes with its recording
# (with_parent by recording_id: transcripts, AI summaries). The sweep's "now"
# is chosen so that exactly N recordings are expired.
sweep_policy() {
  jq --arg p "$sweep_period" '.collections |= with_entries(
      if .key == "recordings" then .value.retention = {"rule": "age", "column": "created_at",
        "period": $p, "description": "bench: recordings older than the period"}
      elif .value.retention.rule? == "with_parent" and .value.retention.reference? == "recording_id"
        then .
      else .value |= del(.retention) end)' "$plat_policy" >"$state/sweep-policy.json" ||
    die "cannot derive the sweep policy"
  "$bdir/dsrctl" --state-dir="$state" policy lint "$state/sweep-policy.json" >/dev/null ||
    die "the derived sweep policy does not lint"
}

# sweep_one N: one size; sets sw_dsrd, sw_ref (seconds) and sw_rows.
sweep_one() {
  local n=$1 d=bench_sw_dsrd r=bench_sw_ref as_of t0 t1
  as_of=$(plat_psql "$plat_db" -At -c "SELECT ceil(extract(epoch FROM created_at + interval
      '$sweep_period'))::bigint FROM recordings ORDER BY created_at OFFSET $n LIMIT 1")
  [ -n "$as_of" ] || die "sweep: the platform has fewer than $n recordings"
  sw_rows=$(plat_psql "$plat_db" -At -c "SELECT count(*) FROM recordings WHERE created_at <
      to_timestamp($as_of) - interval '$sweep_period'")
  plat_clone "$plat_db" "$d"
  plat_clone "$plat_db" "$r"
  log "sweep: $sw_rows expired recordings: dsrd (dsrctl sweep)"
  t0=$(now_s)
  DSR_PLATFORM_DSN=$(plat_url "$d") DSR_MEDIA_ROOT=$state/no-media "$sweep_dsrctl" \
    --state-dir="$state" sweep --policy "$state/sweep-policy.json" --no-dsrd-data \
    --now "$(date -u -d "@$as_of" +%Y-%m-%dT%H:%M:%SZ)" >"$state/sweep.out" 2>"$state/sweep.log" ||
    { tail -n 5 "$state/sweep.log" >&2; die "dsrctl sweep failed"; }
  t1=$(now_s)
  sw_dsrd=$(secs_between "$t0" "$t1")
  log "sweep: dsrd ${sw_dsrd} s: $(grep -E '^(recordings|transcripts|ai_summaries) ' "$state/sweep.out" | tr -s ' ' | paste -sd ';')"
  t0=$(now_s)
  PGOPTIONS="-c bench.as_of=$as_of -c bench.period=${sweep_period// /\\ } -c bench.batch=$sweep_batch" \
    plat_psql "$r" -f "$bench/sql/sweep.sql" || die "the sweep reference failed"
  t1=$(now_s)
  sw_ref=$(secs_between "$t0" "$t1")
  log "sweep: reference ${sw_ref} s"
  plat_finish sweep "$d" "$r"
}

fig_sweep() {
  plat_generate
  sweep_policy
  sweep_batch=$(grep -E '^#? *erasure_batch_rows *=' "$top/contrib/dsrd.conf.sample" | head -n 1 |
    sed 's/.*= *//')
  [ -n "$sweep_batch" ] || die "no erasure_batch_rows in contrib/dsrd.conf.sample"
  local n per=() sizes=() ratio
  for n in $sweep_sizes; do
    sweep_one "$n"
    ratio=$(ratio_of "$sw_dsrd" "$sw_ref")
    add_row "retention sweep: $(printf "%'d" "$sw_rows") expired recordings with their children" "s" \
      "$sw_dsrd" "$sw_ref" "sql/sweep.sql: batches of $sweep_batch recordings, one transaction each" \
      "$ratio" "<= 1.3x" "$(at_most "$ratio" 1.3)" ""
    per+=("$(awk -v t="$sw_dsrd" -v n="$sw_rows" 'BEGIN { printf "%.9f", t / n }')")
    sizes+=("$sw_rows")
  done
  # Growth: dsrd's time per recording at the larger size over that at the smaller one.
  local g
  g=$(ratio_of "${per[1]}" "${per[0]}")
  add_row "retention sweep growth: time per recording at ${sizes[1]} over at ${sizes[0]}" "x" "$g" \
    "" "" "" "<= 1.1 (linear)" "$(at_most "$g" 1.1)" ""
}

# --- figure: access export -----------------------------------------------------------
# export_one EMAIL PHONE: the access export of one subject through a fresh
# policy dsrd (so that its peak RSS is this export's), then the reference.
# Sets ex_td, ex_tr (seconds), ex_rss (KiB) and ex_nrows.
export_one() {
  pdsrd_start "$plat_db" "$state/no-media"
  plat_request access "$1" "$2"
  local before bytes
  before=$(peak_rss_kib "$pd_pid")
  ex_td=$(plat_approve_wait)
  ex_rss=$(peak_rss_kib "$pd_pid")
  read -r ex_nrows bytes < <(psql_q -At -F ' ' -c "SELECT sum(row_count), sum(plain_bytes) FROM
      dsr_exports WHERE request_id = '$plat_rid'")
  pdsrd_stop
  log "export: dsrd ${ex_td} s, $ex_nrows rows, $bytes bytes (ZIP); peak RSS ${ex_rss} KiB (${before} KiB before the approval)"
  local t0 t1 nref
  t0=$(now_s)
  plat_psql "$plat_db" -v email="$1" -v phone="$2" -f "$bench/sql/export.sql" \
    >"$state/export.copy" || die "the export reference failed"
  t1=$(now_s)
  ex_tr=$(secs_between "$t0" "$t1")
  nref=$(wc -l <"$state/export.copy")
  log "export: reference ${ex_tr} s, $nref rows, $(wc -c <"$state/export.copy") bytes"
  [ "$ex_nrows" = "$nref" ] || die "export: dsrd's package holds $ex_nrows rows, the reference copied $nref"
  rm -f "$state/export.copy"
}

# export_rows_added LABEL: the time and peak RSS rows of the last export_one.
export_rows_added() {
  local ratio mib
  ratio=$(ratio_of "$ex_td" "$ex_tr")
  mib=$(awk -v k="$ex_rss" 'BEGIN { printf "%.1f", k / 1024 }')
  add_row "access export: subject with $(printf "%'d" "$ex_nrows") rows" "s" "$ex_td" "$ex_tr" \
    "COPY ... TO STDOUT of the same rows (sql/export.sql)" "$ratio" "<= 2x" \
    "$(at_most "$ratio" 2)" ""
  add_row "access export: peak RSS of the dsrd process (VmHWM)$1" "MiB" "$mib" "" "" "" \
    "<= 64 MiB" "$(at_most "$mib" 64)" ""
}

# Two sizes: the export subject (--export-rows) and the large subject of
# subjects.sh (about 1,000,000 rows; --quick: 100,000), which the platform
# holds whenever this figure is wanted. Both read-only, no copy.
fig_export() {
  plat_generate
  log "export: dsrd (access request of a subject with about $export_rows rows; read-only, no copy)"
  export_one "$ex_email" "$ex_phone"
  export_rows_added ""
  log "export: dsrd (access request of the large subject, about $lg_rows rows; read-only, no copy)"
  export_one "$lg_email" "$lg_phone"
  export_rows_added ", large subject"
}
