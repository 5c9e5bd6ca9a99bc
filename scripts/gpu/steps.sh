# The steps of scripts/gpu/run.sh (sourced there; it sets MODE, BIN, OUT, WORK, PY, DEVICE and the
# sizes). Each step logs to $OUT/run.log and calls fail on a failed check rather than exiting,
# so that one bad step still leaves the others' results.

# The face pack: made here from the carried JPEG tar (Pillow is on the GPU host), or in a
# rehearsal from ../shared's UTKFace, or noise faces where that is missing (CI).
make_data() {
  DATA=$WORK/faces-$SIZE.faces
  [ -f "$DATA" ] && return 0
  local src=.gpu-deps/utkface-128.tar.gz pack=(scripts/pack_utkface.py --faces --size "$SIZE")
  if [ "$MODE" = gpu ]; then
    $PY "${pack[@]}" "$src" "$DATA" >>"$OUT/run.log" 2>&1
  elif [ -d ../shared/data/utkface ]; then
    $PY "${pack[@]}" --ages 18-60 --races 0,1 --limit 600 ../shared/data/utkface "$DATA" \
      >>"$OUT/run.log" 2>&1
  else
    $PY "${pack[@]}" --fake 400 - "$DATA" >>"$OUT/run.log" 2>&1
  fi
}

# write_config NAME SIZE STEPS BATCH EVAL CHECKPOINT [WARM_START DWARMUP] -> $WORK/NAME.toml
write_config() {
  sed -e "s|@NAME@|$1|; s|@SIZE@|$2|; s|@STEPS@|$3|; s|@BATCH@|$4|; s|@EVAL@|$5|" \
    -e "s|@WARM@|${7:-}|; s|@DWARMUP@|${8:-0}|" \
    -e "s|@CHECKPOINT@|$6|; s|@DATA@|$DATA|; s|@THREADS@|$THREADS|; s|@WORKERS@|$WORKERS|" \
    -e "s|@DEVICE@|$TRAIN_DEVICE|; s|@PRECISION@|$TRAIN_PRECISION|" \
    -e "s|@WIDTH@|$WIDTH|; s|@BLOCKS@|$BLOCKS|; s|@DWIDTH@|$DWIDTH|" \
    -e "s|@JUDGE_STEPS@|$JUDGE_STEPS|; s|@EVAL_FACES@|$EVAL_FACES|" \
    -e "s|@CLS_DOWNSAMPLE@|$CLS_DOWNSAMPLE|; s|@LOCAL_LAYERS@|$LOCAL_LAYERS|" \
    scripts/gpu/train.toml.in >"$WORK/$1.toml"
}

compare_step() {
  log "compare: the same weights on the CPU and on $DEVICE"
  if "$BIN/fc-gpu-bench" --compare --device "$DEVICE" "${NET[@]}" "${COMPARE[@]}" \
    --out "$OUT/compare.json" >/dev/null 2>>"$OUT/run.log"; then
    log "compare passed: $($PY -c 'import json,sys; c=json.load(open(sys.argv[1]))["compare"]; print("fp32 max|d|", c["fp32_vs_cpu"]["max_abs"], "bf16 PSNR", round(c["bf16_vs_cpu_fp32"]["psnr_db"], 1), "dB")' "$OUT/compare.json")"
  else
    fail "compare (see compare.json)"
  fi
}

# A few steps with the loss check of scripts/gpu/check_losses.py; its rate sizes the long run.
# On the GPU host the trainer runs on CUDA in bf16; if that fails, the steps run again on the
# CPU (fp32), so the long run still happens and run.log holds the CUDA error.
smoke_step() {
  make_data || { fail "face pack"; return; }
  smoke_on "$TRAIN_DEVICE" "$TRAIN_PRECISION" && return
  if [ "$TRAIN_DEVICE" != cpu ]; then
    TRAIN_DEVICE=cpu TRAIN_PRECISION=fp32
    log "falling back to training on the CPU"
    smoke_on cpu fp32 || STATUS=1
  fi
}

smoke_on() {
  log "smoke: $SMOKE_STEPS steps at $SIZE px, batch $BATCH, $1 $2, from $(basename "$DATA")"
  write_config smoke "$SIZE" "$SMOKE_STEPS" "$BATCH" false "$SMOKE_STEPS"
  rm -rf "$WORK/smoke"
  if ! timeout 600 "$BIN/fc-train" --config "$WORK/smoke.toml" --job-dir "$WORK/smoke" \
    >>"$OUT/run.log" 2>"$WORK/smoke.log"; then
    tail -20 "$WORK/smoke.log" >>"$OUT/run.log"
    fail "smoke training on $1"
    return 1
  fi
  if $PY scripts/gpu/check_losses.py "$WORK/smoke/metrics.jsonl" "$SMOKE_STEPS" \
    >"$WORK/smoke-check.json" 2>>"$OUT/run.log"; then
    log "loss check passed on $1: $(cat "$WORK/smoke-check.json")"
  else
    fail "loss check on $1: $(cat "$WORK/smoke-check.json")"
    return 1
  fi
}

# The data loader's rate at the long run's size and threads, first epoch and cached: a step that
# asks for faces faster waits for them (the long run's data_wait_ms says how long it did).
loader_step() {
  [ -f "${DATA:-}" ] || return 0
  log "loader: batches of $BATCH at $SIZE px, $THREADS torch threads, from $(basename "$DATA")"
  "$BIN/bench_loader" --data "$DATA" --size "$SIZE" --batch "$BATCH" --threads "$THREADS" \
    --workers "2,$WORKERS" --prefetch "2,$WORKERS" --limit 3000 --warm-batches 20 \
    >>"$OUT/run.log" 2>&1 || fail "loader bench"
}

bench_step() {
  log "bench: generator faces/s on $DEVICE"
  "$BIN/fc-gpu-bench" --bench --device "$DEVICE" "${NET[@]}" "${BENCH[@]}" \
    --out "$OUT/bench.json" >/dev/null 2>"$WORK/bench.log" || fail "bench"
  $PY scripts/gpu/bench_table.py "$OUT/bench.json" >>"$OUT/run.log" 2>&1
}

# Trains for the time left (at most LONG_S: 8 minutes on the GPU host), sized by the smoke run's seconds per step, with
# a hard stop; eval is off (its judge would take GPU minutes): fc-eval re-derives it afterwards.
train_step() {
  local left=$((TOTAL_S - $(elapsed) - 45)) budget steps
  budget=$((left < LONG_S ? left : LONG_S))
  local s_per_step
  s_per_step=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["s_per_step"])' \
    "$WORK/smoke-check.json" 2>/dev/null) || { fail "no smoke rate; long run skipped"; return; }
  # 0.65, not 0.8: on the H200 the long run's steps took 1.1-1.2x the smoke run's, and its
  # critic-only warm-up 5.8x (0.53 s a step; unexplained so far), so 0.8 overran by 60 s.
  steps=$($PY -c "print(max(10, int(0.65 * $budget / $s_per_step)))")
  [ "$budget" -lt 10 ] && { fail "only ${budget}s left; long run skipped"; return; }
  log "train: $steps steps at $SIZE px, batch $BATCH, $TRAIN_DEVICE $TRAIN_PRECISION" \
    "(${s_per_step}s/step, ${budget}s budget)"
  local dwarmup=$((LONG_DWARMUP < steps / 4 ? LONG_DWARMUP : steps / 4))
  write_config facecycle-gpu-$SIZE "$SIZE" "$steps" "$BATCH" false $((steps / 4 + 1)) \
    "$LONG_WARM" "$dwarmup"
  rm -rf "$WORK/train"
  timeout -s TERM $((budget + 60)) "$BIN/fc-train" --config "$WORK/facecycle-gpu-$SIZE.toml" \
    --job-dir "$WORK/train" >>"$OUT/run.log" 2>"$WORK/train.log"
  local rc=$?
  tail -5 "$WORK/train.log" >>"$OUT/run.log"
  [ $rc -eq 0 ] || fail "long run exited $rc"
  [ $rc -eq 124 ] && finish_at_checkpoint "$WORK/facecycle-gpu-$SIZE.toml" "$WORK/train"
  local model=$WORK/train/facecycle-gpu-$SIZE.pt
  [ -f "$model" ] && cp "$model" "$OUT/model.pt" &&
    cp "${model%.pt}.card.json" "$OUT/model.card.json" || fail "no model written"
  for f in samples.png loss_curves.png; do cp "$WORK/train/$f" "$OUT/" 2>/dev/null; done
  $PY scripts/gpu/check_losses.py "$WORK/train/metrics.jsonl" "$steps" \
    --config "$WORK/facecycle-gpu-$SIZE.toml" >"$OUT/summary.json" \
    2>>"$OUT/run.log" || fail "long run's losses"
  log "median ms a step: $($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["timing"])' \
    "$OUT/summary.json" 2>&1)"
  cp "$WORK/facecycle-gpu-$SIZE.toml" "$WORK/train/" 2>/dev/null
}

# A long run stopped at its deadline leaves a checkpoint (fc-train checkpoints on SIGTERM) but no
# model. Rerun it with the stage ending at that checkpoint's step: the resumed run has no step
# left, so it only writes the model (its learning rate had not finished decaying).
finish_at_checkpoint() {
  local config=$1 job=$2 last step
  last=$(ls "$job/checkpoints"/ckpt_*.pt 2>/dev/null | sort | tail -1)
  [ -n "$last" ] || { fail "no checkpoint to finish from"; return 1; }
  step=$(basename "$last" .pt)
  step=$((10#${step#ckpt_}))
  log "finishing the model at the checkpoint of step $step"
  sed -i "s/^steps = .*/steps = $step/" "$config"
  timeout 120 "$BIN/fc-train" --config "$config" --job-dir "$job" >>"$OUT/run.log" \
    2>>"$WORK/train.log" || fail "finishing at step $step"
}
