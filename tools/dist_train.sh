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
exec "$(dirname "$0")/torchrun.sh" "$2" train.py "$1" "${@:3}"
