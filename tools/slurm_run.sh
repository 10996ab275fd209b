#!/usr/bin/env bash
# srun one of the tools on a Slurm cluster (one task per GPU, or per CPU
# process); used by slurm_train.sh and slurm_test.sh.
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       tools/slurm_run.sh PARTITION JOB_NAME SCRIPT [script args...]
#
# GPUS is the total number of tasks (processes). On CPU-only nodes set
# GPUS_PER_NODE=0 and TASKS_PER_NODE=<processes per node>: no GPU is
# requested and the processes use gloo.
set -euo pipefail
export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}

PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
TASKS_PER_NODE=${TASKS_PER_NODE:-$GPUS_PER_NODE}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"

GRES_ARGS=""
if [ "$GPUS_PER_NODE" -gt 0 ]; then
    GRES_ARGS="--gres=gpu:${GPUS_PER_NODE}"
fi
TPN_ARGS=""
if [ "$TASKS_PER_NODE" -gt 0 ]; then
    TPN_ARGS="--ntasks-per-node=${TASKS_PER_NODE}"
fi

export PYTHONPATH="$(dirname "$TOOLS_DIR")${PYTHONPATH:+:$PYTHONPATH}"
set -x
# shellcheck disable=SC2086
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    ${GRES_ARGS} \
    --ntasks="${GPUS}" \
    ${TPN_ARGS} \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$TOOLS_DIR/$SCRIPT" "${@:4}" --launcher=slurm
