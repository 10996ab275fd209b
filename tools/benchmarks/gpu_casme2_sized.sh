#!/usr/bin/env bash
# One GPU session (<= 7 min) for the CASME II-sized LOSO timing, everything
# written to OUT_DIR (JSON + logs):
#   1. environment (GPU, torch, numpy, mmengine/mmaction versions);
#   2. one fold's training epochs in the plain loop, bf16 + channels_last
#      (tools/benchmarks/bench_device_corpus.py);
#   3. a LOSO slice: FOLDS folds x EPOCHS epochs with JOBS folds in flight
#      on the GPU (tools/loso.py through bench_loso_jobs.py), and the
#      26-fold x 40-epoch LOSO extrapolated from it; once per mode of
#      MPS_MODES ("off", "on": under the CUDA MPS daemon, so that the jobs'
#      kernels can run at the same time instead of time-sliced);
#   4. the runner's overhead on one fold: plain loop vs the Runner with
#      RuntimeInfoHook vs with DeferredRuntimeInfoHook, sync points and
#      cProfile of one more epoch (bench_runner_overhead.py --analyse);
#   5. where a training step's time goes, AKMNet next to the bare backbone
#      (tools/benchmarks/profile_train_step.py, torch.profiler: GPU busy
#      fraction, kernels a step, forward parts, backward nodes), fp32 and
#      bf16 + channels_last;
#   6. tools/benchmark.py --device DEVICE --quick --sections akmnet official
#      per variant of BENCH_VARIANTS ("fp32", "amp_cl": --amp --channels-last)
#      in the time left of BUDGET_S seconds (default 380).
# Where the OpenMMLab packages are not installed, the wheels of ./.whl
# (gitignored; mmaction2, mmengine, mmcv_lite, addict, ...) are unpacked
# into WORK/site and put on PYTHONPATH.
# Usage: tools/benchmarks/gpu_casme2_sized.sh OUT_DIR [JOBS] [EPOCHS] [FOLDS...]
#   defaults: JOBS 8, EPOCHS 3, FOLDS sub01 ... sub08
# Environment: DEVICE (cuda), CONFIG, WORK, PYTHON, BUDGET_S,
#   RUNNER_EPOCHS (timed epochs of step 4, default 2), STEPS (the steps to
#   run, default "plain loso runner profile bench"), MPS_MODES (default "off"),
#   BENCH_VARIANTS (default "fp32").
# The logs end up in OUT_DIR/logs.tar.gz (few files come back from a device).
set -uo pipefail
OUT=${1:?usage: $0 OUT_DIR [JOBS] [EPOCHS] [FOLDS...]}
JOBS=${2:-8}
EPOCHS=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
FOLDS=${*:-sub01 sub02 sub03 sub04 sub05 sub06 sub07 sub08}
PY=${PYTHON:-python3}
CONFIG=${CONFIG:-configs/casme2_sized/akm_casme2_sized.py}
WORK=${WORK:-/tmp/casme2_sized_work}
DEVICE=${DEVICE:-cuda}
cd "$(dirname "$0")/../.." || exit 1
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
export PYTHONUNBUFFERED=1

step() { echo "=== $(date -u +%T) +${SECONDS}s $*"; }

if [ -d .whl ] && ! $PY -c 'import mmaction, mmengine' 2>/dev/null; then
  step "unpacking .whl into $WORK/site"
  for w in .whl/*.whl; do
    $PY -m zipfile -e "$w" "$WORK/site" || exit 1
  done
  export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

step environment
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
  $PY - <<'EOF'
import json, platform, torch, numpy, mmengine, mmaction
import mmakm  # noqa: F401
info = dict(python=platform.python_version(), torch=torch.__version__,
            cuda=torch.version.cuda, numpy=numpy.__version__,
            mmengine=mmengine.__version__, mmaction=mmaction.__version__,
            gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available()
            else None,
            bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported())
print(json.dumps(info))
EOF
} 2>&1 | tee "$OUT/env.txt"

STEPS=${STEPS:-plain loso runner profile bench}
want() { [[ " $STEPS " == *" $1 "* ]]; }

if want plain; then
step "plain loop, bf16 + channels_last"
$PY tools/benchmarks/bench_device_corpus.py --config "$CONFIG" \
  --device "$DEVICE" --variants bf16_cl --epochs 2 \
  --out "$OUT/bench_device_corpus.json" \
  2>&1 | grep -v Warning | tee "$OUT/bench_device_corpus.log" | tail -4
fi

AMP=(optim_wrapper.type=AutocastOptimWrapper optim_wrapper.dtype=bfloat16
     model.backbone.channels_last=True
     model.data_preprocessor.channels_last=True)
mps_start() {  # CUDA MPS daemon private to this run; 0 if it runs
  command -v nvidia-cuda-mps-control >/dev/null || {
    echo "MPS: nvidia-cuda-mps-control not found"; return 1; }
  export CUDA_MPS_PIPE_DIRECTORY=$WORK/mps/pipe
  export CUDA_MPS_LOG_DIRECTORY=$WORK/mps/log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  nvidia-cuda-mps-control -d || { echo "MPS: the daemon did not start"
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY; return 1; }
  # the server starts at the first client: check that CUDA works under it
  $PY -c 'import torch; torch.ones(1, device="cuda").sum().item()' || {
    echo "MPS: CUDA fails under the daemon"; mps_stop; return 1; }
  echo "MPS: daemon started"
}
mps_stop() {
  echo quit | nvidia-cuda-mps-control 2>/dev/null
  unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
}

if want loso; then
for mode in ${MPS_MODES:-off}; do
  if [ "$mode" = on ]; then
    mps_start >> "$OUT/env.txt" 2>&1; started=$?  # not in a pipe: exports
    tail -1 "$OUT/env.txt"
    [ "$started" = 0 ] || continue
  fi
  step "LOSO slice: $JOBS jobs, $EPOCHS epochs, folds $FOLDS (bf16 + channels_last, MPS $mode)"
  # shellcheck disable=SC2086
  $PY tools/benchmarks/bench_loso_jobs.py --config "$CONFIG" --jobs "$JOBS" \
    --epochs "$EPOCHS" --folds $FOLDS --work-root "$WORK/loso_mps_$mode" \
    --out "$OUT/loso_jobs_mps_$mode.json" --cfg-options \
    default_hooks.checkpoint.interval=100 "${AMP[@]}" \
    2>&1 | tee "$OUT/loso_jobs_mps_$mode.log" | tail -6
  [ "$mode" = on ] && mps_stop
done
fi

if want runner; then
step "runner overhead on one fold (plain / RuntimeInfoHook / deferred)"
$PY tools/benchmarks/bench_runner_overhead.py --config "$CONFIG" \
  --device "$DEVICE" --variant bf16_cl --epochs "${RUNNER_EPOCHS:-2}" \
  --analyse --work-dir "$WORK/runner_overhead" \
  --out "$OUT/runner_overhead.json" \
  2>&1 | grep -v Warning | tee "$OUT/runner_overhead.log" | tail -50
fi

if want profile; then
step "profile of one training step, fp32 and bf16 + channels_last"
$PY tools/benchmarks/profile_train_step.py --device "$DEVICE" \
  --variants fp32 amp_cl --out "$OUT/profile.json" 2>&1 | grep -v Warning \
  | tee "$OUT/profile.log" | grep -E '===|a step|AKMNet /'
fi

# fp32: as the authors' code trains; amp_cl: the GPU path (bf16 autocast +
# channels_last) against the same reference
for variant in ${BENCH_VARIANTS:-fp32}; do
  left=$(( ${BUDGET_S:-380} - SECONDS ))
  want bench && [ "$left" -gt 20 ] || break
  opts=(); [ "$variant" = amp_cl ] && opts=(--amp --channels-last)
  step "tools/benchmark.py --sections akmnet official ${opts[*]} (timeout ${left}s)"
  timeout "$left" $PY tools/benchmark.py --device "$DEVICE" --quick \
    --sections akmnet official "${opts[@]}" --out "$OUT/benchmark_$variant.json" \
    > "$OUT/benchmark_$variant.log" 2>&1
  echo "rc=$?"; tail -30 "$OUT/benchmark_$variant.log"
done

step done
(cd "$WORK" && find . -path './loso_mps_*' \( -name '*.log' -o -name 'loso_timing.json' \) \
  | sort | tar -czf "$OUT/fold_logs.tar.gz" -T - 2>/dev/null)
(cd "$OUT" && tar -czf logs.tar.gz --remove-files ./*.log 2>/dev/null)
ls "$OUT"
