#!/usr/bin/env bash
# Create .venv (if missing) and install mmkd's pinned stack into it
# (requirements/constraints.txt: the exact versions the tables need).
#
#   bash tools/setup_env.sh            # what `make setup` runs
#
# Environment:
#   PYTHON          interpreter for the venv (python3.11, else python3)
#   VENV            venv directory (.venv)
#   TORCH_SPEC      torch requirement (torch==2.13.0: the CPU wheel on local
#                   disk here; on a GPU machine the CUDA build you want)
#   MMKD_WHEELHOUSE directory with a prebuilt mmcv-2.1.0 wheel for this torch
#                   (../shared/wheelhouse is used when present)
# mmcv 2.1.0 has no wheels on PyPI: without a wheelhouse it is built from
# source (~17 min on 2 cores), with CUDA ops when torch sees CUDA
# (MMCV_WITH_OPS=1 FORCE_CUDA=1), and pip keeps the built wheel in its cache
# for the next venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
STAMP="$VENV/.mmkd-installed"
REQS="requirements/runtime.txt requirements/tests.txt requirements/constraints.txt setup.py tools/setup_env.sh mmkd/ops/csrc/*.cpp"

if [ -f "$STAMP" ] && [ "$(cat $REQS | sha1sum)" = "$(cat "$STAMP")" ]; then
  exit 0  # up to date
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q wheel "$TORCH_SPEC"

WHEELHOUSE=${MMKD_WHEELHOUSE:-}
if [ -z "$WHEELHOUSE" ] && [ -d ../shared/wheelhouse ]; then
  WHEELHOUSE=../shared/wheelhouse
fi
if ! $VENV/bin/python -c 'import mmcv, mmcv.ops' 2>/dev/null; then
  CUDA=$($VENV/bin/python -c 'import torch; print(int(torch.cuda.is_available()))')
  FIND_LINKS=()
  if [ -n "$WHEELHOUSE" ] && [ "$CUDA" = 0 ]; then
    FIND_LINKS=(--find-links "$WHEELHOUSE")
  fi
  echo "installing mmcv==2.1.0 (wheelhouse: ${WHEELHOUSE:-none}, CUDA ops: $CUDA);" \
       "building from source takes ~17 min on 2 cores"
  if [ ${#FIND_LINKS[@]} -gt 0 ] && ls "$WHEELHOUSE"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    $PIP install "${FIND_LINKS[@]}" 'mmcv==2.1.0'
  else
    # mmcv 2.1.0's setup.py needs pkg_resources (setuptools < 70), torch
    # 2.13 needs setuptools >= 77: downgrade for the build only
    SETUPTOOLS=$($VENV/bin/python -c 'import setuptools; print(setuptools.__version__)')
    $PIP install -q 'setuptools<70'
    MMCV_WITH_OPS=1 FORCE_CUDA=$CUDA $PIP install --no-build-isolation \
      'mmcv==2.1.0'
    $PIP install -q "setuptools==$SETUPTOOLS"
  fi
fi
# the versions the README's tables were measured with (see the file)
$PIP install -q --no-build-isolation -c requirements/constraints.txt \
  -e '.[tests]'
# mmkd's C++ operators (mmkd/ops/csrc), next to the sources: pip's editable
# install builds in an isolated environment without torch, so build here
$VENV/bin/python setup.py -q build_ext --inplace
$VENV/bin/python -c 'import mmcv.ops, mmdet, mmseg, monai, nibabel
import importlib
for op, ext in [("RoIAlign", "_roi_align_ext"), ("NMS", "_nms_ext")]:
    try:
        importlib.import_module("mmkd." + ext)
    except ImportError as e:
        print(f"warning: mmkd.{ext} did not build or load ({e}); {op} will "
              "use mmcv\x27s CPU kernel: the same results, slower")'
cat $REQS | sha1sum > "$STAMP"
echo "environment ready: $VENV"
