#!/usr/bin/env bash
# Data-parallel training with torchrun (gloo on CPU-only torch, nccl on GPU).
#
#   tools/dist_train.sh CONFIG NPROC [train.py args...]
#
# NPROC processes per node (GPUs per node, or CPU processes on a CPU-only
# build). Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT, e.g. on node 0 and
# node 1 of two:
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh cfg.py 8
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh cfg.py 8
set -euo pipefail

CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"

export PYTHONPATH="$(dirname "$TOOLS_DIR")${PYTHONPATH:+:$PYTHONPATH}"
set -x
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --master_port="$PORT" \
    --nproc_per_node="$NPROC" \
    "$TOOLS_DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}"
