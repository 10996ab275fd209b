#!/usr/bin/env bash
# One GPU session for the CASME II-sized LOSO timing, everything written to
# OUT_DIR (JSON + logs):
#   1. environment (GPU, torch, numpy, mmengine/mmaction versions);
#   2. one fold's training epochs on the device-resident corpus: fp32, bf16,
#      bf16 + channels_last (tools/benchmarks/bench_device_corpus.py);
#   3. a LOSO slice (FOLDS folds x EPOCHS epochs) with 1 and JOBS folds in
#      flight on the GPU, and the 26-fold x 40-epoch LOSO extrapolated
#      (tools/benchmarks/bench_loso_jobs.py), bf16 + channels_last where
#      step 2 ran them;
#   4. tools/benchmark.py --device cuda --quick in the time left of
#      BUDGET_S seconds (default 450).
# Usage: tools/benchmarks/gpu_casme2_sized.sh OUT_DIR [JOBS] [EPOCHS] [FOLDS...]
set -uo pipefail
OUT=${1:?usage: $0 OUT_DIR [JOBS] [EPOCHS] [FOLDS...]}
JOBS=${2:-4}
EPOCHS=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
FOLDS=${*:-sub01 sub02 sub03 sub04}
PY=${PYTHON:-python3}
CONFIG=${CONFIG:-configs/casme2_sized/akm_casme2_sized.py}
WORK=${WORK:-/tmp/casme2_sized_work}
DEVICE=${DEVICE:-cuda}
cd "$(dirname "$0")/../.." || exit 1
mkdir -p "$OUT" "$WORK"
export PYTHONUNBUFFERED=1

step() { echo "=== $(date -u +%T) $*"; }

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

step bench_device_corpus
$PY tools/benchmarks/bench_device_corpus.py --config "$CONFIG" --device "$DEVICE" \
  --epochs 2 --out "$OUT/bench_device_corpus.json" \
  2>&1 | grep -v Warning | tee "$OUT/bench_device_corpus.log" | tail -8

AMP=()
if $PY -c "import json,sys; r={x['variant']: x for x in json.load(open('$OUT/bench_device_corpus.json'))['results']}; sys.exit(0 if 'error' not in r.get('bf16_cl', {'error': 1}) else 1)"; then
  AMP=(optim_wrapper.type=AutocastOptimWrapper optim_wrapper.dtype=bfloat16
       model.backbone.channels_last=True
       model.data_preprocessor.channels_last=True)
fi
step "LOSO slice, jobs 1 and $JOBS, ${AMP[*]:-fp32}"
# shellcheck disable=SC2086
$PY tools/benchmarks/bench_loso_jobs.py --config "$CONFIG" --jobs 1 "$JOBS" \
  --epochs "$EPOCHS" --folds $FOLDS --work-root "$WORK" \
  --out "$OUT/loso_jobs.json" --cfg-options default_hooks.checkpoint.interval=100 \
  "${AMP[@]}" 2>&1 | tee "$OUT/loso_jobs.log" | tail -12

if [ -f tools/benchmark.py ]; then
  # whatever time is left of BUDGET_S (default 450 s) since the start
  left=$(( ${BUDGET_S:-450} - SECONDS ))
  step "tools/benchmark.py (timeout ${left}s)"
  if [ "$left" -gt 20 ]; then
    timeout "$left" $PY tools/benchmark.py --device "$DEVICE" --quick \
      --out "$OUT/benchmark.json" > "$OUT/benchmark.log" 2>&1
    echo "rc=$?"; tail -60 "$OUT/benchmark.log"
  fi
fi

step done
tar -czf "$OUT/fold_logs.tar.gz" -C "$WORK" \
  $(cd "$WORK" && find . -name '*.log' -o -name 'loso_timing.json' | sort) \
  2>/dev/null
