#!/usr/bin/env bash
# GPU readiness in one command, on a machine with a CUDA GPU (about 5 minutes on one GPU, 8 at most: each step has
# a time limit). Writes ONE results file, OUT/results.md: the environment, a table of the steps (exit status,
# seconds) and the tail of each step's output (the benchmark tables in full).
#
#   bash scripts/gpu_check.sh [OUT]        # OUT defaults to gpu_check/; PYTHON=... picks the interpreter
#
# Steps:
#   cuda_tests  every test whose name says cuda (they skip without a GPU, so only here do they run)
#   amp_train   one epoch of PST-T and TSM-R50 on synthetic 224x224 clips with bf16 and fp16 autocast (fp16 with
#               the GradScaler): the training step, evaluation and checkpoint of each under mixed precision
#   ddp_nccl    the same TSM-R50 run under torchrun with 1 process: DistributedDataParallel over nccl
#   tps_table6  videoshift bench models --preset tps-table6 --device cuda
#   stsm_table4 videoshift bench models --preset stsm-table4 --device cuda
# Every step runs even when an earlier one fails; the script exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu_check}
PY=${PYTHON:-python}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

if ! "$PY" -c "import torch" 2> /dev/null; then
    echo "gpu_check: $PY cannot import torch; set PYTHON to the environment's python" >&2
    exit 2
elif ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: torch sees no CUDA device; nothing to check" >&2
    exit 2
fi

cat > "$OUT/amp.yaml" <<'EOF'
# one epoch of 8 synthetic 224x224 clips per run, at each model's paper frame count (PST-T: 32 input frames, its
# released relative-position table needs 16 temporal tokens; TSM-R50: 8); weights start random (no downloads)
name: gpu_amp
data:
  dataset: synthetic
  synthetic: {num_train: 8, num_val: 4, num_frames: 8, size: 224}
train: {epochs: 1, batch_size: 2, num_workers: 2, device: cuda, log_every: 1}
eval: {batch_size: 4}
experiments:
  - {name: pst_t_bf16, set: {model.name: pst_t, data.synthetic.num_frames: 32, train.amp: bf16}}
  - {name: pst_t_fp16, set: {model.name: pst_t, data.synthetic.num_frames: 32, train.amp: fp16}}
  - {name: tsm_r50_bf16, set: {model.name: tsm_r50, train.amp: bf16}}
  - {name: tsm_r50_fp16, set: {model.name: tsm_r50, train.amp: fp16}}
EOF

STEPS=()
step() {  # step NAME SECONDS COMMAND...: run COMMAND with a time limit, output to OUT/NAME.log
    local name=$1 limit=$2 start rc
    shift 2
    echo "gpu_check: $name (at most ${limit}s)" >&2
    start=$(date +%s)
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    rc=$?
    STEPS+=("| $name | $rc$([ "$rc" = 124 ] && echo ' (timed out)') | $(($(date +%s) - start)) |")
    return 0
}

step cuda_tests 90 "$PY" -m pytest -q -rs -p no:cacheprovider -k cuda tests
step amp_train 120 "$PY" -m videoshift train "$OUT/amp.yaml" --work-dir "$OUT/runs"
step ddp_nccl 60 "$PY" -m torch.distributed.run --standalone --nproc_per_node 1 -m videoshift train "$OUT/amp.yaml" \
    --work-dir "$OUT/runs_ddp" --set experiments=null --set name=ddp_tsm_r50 --set model.name=tsm_r50 \
    --set train.amp=fp16
step tps_table6 90 "$PY" -m videoshift bench models --preset tps-table6 --device cuda --json "$OUT/tps_table6.json"
step stsm_table4 90 "$PY" -m videoshift bench models --preset stsm-table4 --device cuda --json "$OUT/stsm_table4.json"

RESULTS="$OUT/results.md"
{
    echo "# videoshift GPU check"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    "$PY" -c "import torch; print(f'- torch {torch.__version__}, CUDA {torch.version.cuda}, GPU: {torch.cuda.get_device_name(0)}')"
    echo
    echo "| step | exit status | seconds |"
    echo "|---|---|---|"
    printf '%s\n' "${STEPS[@]}"
    for name in cuda_tests amp_train ddp_nccl tps_table6 stsm_table4; do
        echo
        echo "## $name"
        echo
        echo '```'
        case $name in
            tps_table6 | stsm_table4) cat "$OUT/$name.log" ;;
            *) tail -n 40 "$OUT/$name.log" ;;
        esac
        echo '```'
    done
} > "$RESULTS"
echo "gpu_check: results in $RESULTS" >&2
! printf '%s\n' "${STEPS[@]}" | grep -qv '^| [a-z_0-9]* | 0 |'
