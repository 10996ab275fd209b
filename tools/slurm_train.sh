#!/usr/bin/env bash
# Training on a Slurm cluster (one task per GPU, or per CPU process).
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
#
# GPUS is the total number of tasks; CPU-only nodes: GPUS_PER_NODE=0
# TASKS_PER_NODE=<processes per node> (see slurm_run.sh).
set -euo pipefail
exec "$(dirname "$0")/slurm_run.sh" "$1" "$2" train.py "${@:3}"
