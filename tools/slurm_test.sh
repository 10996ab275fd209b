#!/usr/bin/env bash
# Testing on a Slurm cluster.
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
#
# CPU-only nodes: GPUS_PER_NODE=0 TASKS_PER_NODE=<processes per node>.
set -euo pipefail
exec "$(dirname "$0")/slurm_run.sh" "$1" "$2" test.py "${@:3}"
