#!/usr/bin/env bash
# torchrun one of the tools (gloo on CPU-only torch, nccl on GPU); used by
# dist_train.sh and dist_test.sh.
#
#   tools/torchrun.sh NPROC SCRIPT [script args...]
#
# NPROC processes per node. Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT.
set -euo pipefail

NPROC=$1
SCRIPT=$2
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
    "$TOOLS_DIR/$SCRIPT" "${@:3}" --launcher pytorch
