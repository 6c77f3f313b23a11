"""The demo data generators of ``tools/make_demo_data.py``, one module per
data set."""
