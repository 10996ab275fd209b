#!/usr/bin/env bash
# Data-parallel testing with torchrun (gloo on CPU-only torch, nccl on GPU).
#
#   tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
#
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT (see dist_train.sh).
set -euo pipefail
exec "$(dirname "$0")/torchrun.sh" "$3" test.py "$1" "$2" "${@:4}"
