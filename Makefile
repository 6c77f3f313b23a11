# mmkd: the two commands of the README.
#   make demo   set up, generate the demo data, train + evaluate the demo
#               (a semi-supervised run and its control side by side)
#   make test   set up, lint, run the tests
#   make lint   ruff (pycodestyle, pyflakes, isort rules; ruff.toml)
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CONFIGS ?= configs/supervised/demo/faster_rcnn_r18_demo_coco_10p.py configs/soft_teacher/demo/soft_teacher_faster_rcnn_r18_demo_coco_10p.py
PYTEST_ARGS ?=
# tests run in this many processes (pytest-xdist), one thread per core each
TEST_WORKERS ?= 2

.PHONY: setup data demo lint test clean

setup:
	bash tools/setup_env.sh

data: setup
	@[ -f data/.demo-data-v5 ] || { $(PY) tools/make_demo_data.py --out data && touch data/.demo-data-v5; }

demo: data
	$(PY) tools/analysis_tools/run_demo.py --side-by-side $(DEMO_CONFIGS)

lint: setup
	$(VENV)/bin/ruff check .

test: setup lint
	$(PY) -m pytest tests -n $(TEST_WORKERS) $(PYTEST_ARGS)

clean:
	rm -rf work_dirs data/coco_demo data/cityscapes_demo data/cbct_demo data/.demo-data-*
