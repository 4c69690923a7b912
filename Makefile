# The two commands: `make demo` and `make test`. Both build .venv when it is
# missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: demo test bench screenshots clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m kiosk.platform_check
	$(PY) -m engine demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(JOBS) --dist loadgroup

# the user guide's and the README's pictures, made from the demo practice (offscreen: no screen needed)
SHOTS := inbox outbox patients appointments compose patient templates wizard admin
screenshots: $(STAMP)
	for v in $(SHOTS); do QT_QPA_PLATFORM=offscreen $(PY) -m engine demo --screenshot docs/screenshots/$$v.png --view $$v >/dev/null || exit 1; done

bench: $(STAMP)
	for b in tools/bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
