# Two commands do all the set-up: `make run` (the main job) and `make test` (the test suite).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test chromium clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	# the CPU wheel of torch lies on local disk; install the pin first so nothing pulls a CUDA build
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test,onnx]"
	touch $(STAMP)

# Debian's chromium: the report's PDF and the browser tests (Playwright cannot download a browser here)
chromium:
	@command -v chromium >/dev/null || $(SUDO) apt-get install -y -q chromium \
	  || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium)

run: $(STAMP) chromium
	$(VENV)/bin/neuralab data fetch
	$(VENV)/bin/neuralab data info
	$(VENV)/bin/neuralab report --budget 10m --out report

test: $(STAMP) chromium
	$(PY) -m pytest -q -n 2

clean:
	rm -rf $(VENV) runs report .pytest_cache .hypothesis
