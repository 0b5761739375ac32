#!/usr/bin/env bash
# Mutation testing of the modules where a silent bug costs a user a training run, with mutmut (pinned 3.8.1).
#
#   pip install mutmut==3.8.1
#   scripts/mutation.sh [GROUP ...]        # default: every group in ALL below
#
# Each group mutates a few modules and runs only the tests written for them (mutmut then runs, for every mutant,
# only the tests that reach the mutated function). It runs in a scratch copy of the repository (MUTATION_DIR,
# default a new temporary folder), so the working tree is never touched, and prints per module: mutants, killed,
# survived, other (timeouts, suspicious), and the kill rate. Survivors are listed; `cd $MUTATION_DIR/GROUP &&
# mutmut show NAME` prints one. Environment: PYTHON (default: python), JOBS (parallel mutants, default 2).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
JOBS=${JOBS:-2}
WORK=${MUTATION_DIR:-$(mktemp -d -t videoshift-mutation.XXXXXX)}

declare -A MODULES TESTS
MODULES[ops]="videoshift/ops/temporal.py videoshift/ops/spatiotemporal.py"
TESTS[ops]="tests/ops/test_ops_temporal.py tests/ops/test_ops_stsm.py tests/ops/test_ops_contracts.py tests/test_paper_defaults.py"
MODULES[patch]="videoshift/ops/patch.py videoshift/ops/_core.py"
TESTS[patch]="tests/ops/test_shift_core.py tests/ops/test_ops_patch.py tests/ops/test_ops_temporal.py tests/ops/test_ops_stsm.py tests/ops/test_ops_contracts.py"
MODULES[layout]="videoshift/models/swin_layout.py"
TESTS[layout]="tests/models/test_swin_layout.py tests/models/test_swin_video.py tests/models/test_swin_release.py"
MODULES[samplers]="videoshift/data/samplers.py"
TESTS[samplers]="tests/data/test_samplers.py tests/data/test_sampler_rules.py"
MODULES[transforms]="videoshift/data/transforms.py videoshift/data/label_maps.py"
TESTS[transforms]="tests/data/test_transforms.py tests/data/test_transform_rules.py tests/data/test_flip_pairs.py tests/data/test_annotations.py"
MODULES[readers]="videoshift/data/readers.py"
TESTS[readers]="tests/data/test_reader_index.py tests/data/test_readers.py tests/data/test_reader_formats.py"
MODULES[metrics]="videoshift/engine/metrics.py videoshift/engine/evaluate.py"
TESTS[metrics]="tests/engine/test_multi_label_metrics.py tests/engine/test_multi_label.py tests/engine/test_metrics.py tests/engine/test_multiview.py tests/engine/test_evaluation_outputs.py"
MODULES[checkpointing]="videoshift/engine/checkpointing.py"
TESTS[checkpointing]="tests/engine/test_checkpointing.py tests/engine/test_checkpoint_files.py tests/engine/test_resume_exactness.py"
# resume: the training loop and its loaders, through small training runs of stand-in models (seconds each; the
# killed-and-resumed subprocess runs of tests/engine/test_slow_runs.py take minutes and are left out)
MODULES[resume]="videoshift/engine/train.py videoshift/engine/loader.py"
TESTS[resume]="tests/engine/test_run_contract.py tests/engine/test_loader_contract.py tests/engine/test_train.py tests/engine/test_resume_exactness.py tests/engine/test_multi_label.py tests/engine/test_distributed.py tests/engine/test_commands.py tests/engine/test_predict.py tests/engine/test_checkpoint_files.py"
ALL="ops patch layout samplers transforms readers metrics checkpointing resume"

groups=${*:-$ALL}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1  # one thread per mutant worker (JOBS workers run at once)
echo "mutation testing in $WORK"
for group in $groups; do
    [[ -n "${MODULES[$group]:-}" ]] || { echo "unknown group $group (groups: $ALL)" >&2; exit 2; }
    dir="$WORK/$group"
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$dir" 2>/dev/null || true)
    {
        echo "[mutmut]"
        echo "source_paths = videoshift"
        echo "only_mutate ="
        for module in ${MODULES[$group]}; do echo "    $module"; done
        echo "pytest_add_cli_args_test_selection ="
        for test in ${TESTS[$group]}; do echo "    $test"; done
        # workers fork from a server that has only collected the tests: no cache (layouts, compiled shift plans)
        # filled by the clean run can hide a mutant, and torch is not forked after it has started threads
        echo "process_isolation = forkserver"
    } > "$dir/setup.cfg"
    (cd "$dir" && "$PYTHON" -m mutmut run --max-children "$JOBS" > run.log 2>&1 || true)
    (cd "$dir" && "$PYTHON" -m mutmut results --all true > results.txt 2>&1 || true)
    "$PYTHON" - "$dir/results.txt" "$group" <<'PY'
import collections, re, sys

counts = collections.defaultdict(collections.Counter)
survivors = []
for line in open(sys.argv[1]):
    match = re.match(r"\s*(\S+)__mutmut_\d+: (.+)", line)
    if not match:
        continue
    name, status = match.group(0).strip().split(": ")[0], match.group(2).strip()
    module = ".".join(p for p in match.group(1).split(".") if not p.startswith(("x_", "xǁ")))
    counts[module][status] += 1
    if status == "survived":
        survivors.append(name)
for module, c in sorted(counts.items()):
    total, killed = sum(c.values()), c["killed"]
    other = total - killed - c["survived"]
    print(f"{sys.argv[2]}: {module}: {total} mutants, {killed} killed, {c['survived']} survived, {other} other "
          f"({100 * killed / max(total, 1):.1f}% killed)")
for name in survivors:
    print(f"  survived: {name}")
PY
done
