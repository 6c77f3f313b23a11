#!/usr/bin/env bash
# The GPU path in a few minutes, one line per check:
#
#   bash tools/gpu_smoke.sh [LOG_DIR]
#
# - every full-size config: one training iteration with --amp on tiny data
#   laid out like the real data set, and its validation
#   (tests/test_full_configs.py, the docs' full-size commands);
# - --resume continues exactly (detection, Soft Teacher, 3D);
# - tools/test.py on a checkpoint;
# - two processes (Soft Teacher's demo, the segmentation mean teacher, RAIL)
#   when the machine has two GPUs or more.
# The runs of tools/train.py inside the tests get --amp from MMKD_AMP=1.
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
LOG=${1:-work_dirs/gpu_smoke}
mkdir -p "$LOG"
export MMKD_AMP=1

check() {
    local name=$1
    shift
    if "$@" >"$LOG/$name.log" 2>&1; then
        echo "ok    $name"
    else
        echo "FAIL  $name (log: $LOG/$name.log)"
    fi
}

if ! $PYTHON -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'
then
    echo "no GPU: nothing checked (the CPU stand-ins run in make test)"
    exit 1
fi
check full-size-configs-amp $PYTHON -m pytest -q -m '' \
    tests/test_full_configs.py tests/test_mixed_precision.py
check docs-full-size-commands-amp $PYTHON -m pytest -q -m '' \
    "tests/test_docs_commands.py::test_page_commands_run_in_order[docs/get_started.md]" \
    "tests/test_docs_commands.py::test_page_commands_run_in_order[docs/user_guides/own_data.md]"
check resume-exact $PYTHON -m pytest -q -m '' \
    tests/test_training.py::test_resume_continues_exactly \
    tests/test_soft_teacher_training.py::test_soft_teacher_resumes_exactly_without_replaying_data \
    tests/test_volumetric_training.py
check test-tool $PYTHON -m pytest -q -m '' \
    tests/test_training.py::test_test_tool_dumps_predictions_and_paints
GPUS=$($PYTHON -c 'import torch; print(torch.cuda.device_count())')
if [ "$GPUS" -ge 2 ]; then
    check two-processes $PYTHON -m pytest -q -m '' \
        tests/test_training.py::test_two_gloo_processes_through_dist_train \
        tests/test_rail.py::test_rail_trains_in_two_gloo_processes \
        tests/test_distributed_state.py
else
    echo "skip  two-processes (one GPU)"
fi
