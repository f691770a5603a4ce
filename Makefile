# Two commands on a fresh machine:
#   make demo   set up, build the student releases with nbgrader, grade the bundled example submissions, write out/
#   make test   set up and run the package's own tests
PYTHON ?= python3
# On an ordinary Linux laptop, PyPI's torch is the multi-GB CUDA build; `make setup TORCH_INDEX=<PyTorch's CPU wheel
# index, see README>` takes the ~200 MB CPU build instead. Empty: the package index pip is configured with.
TORCH_INDEX ?=
VENV   ?= .venv
BIN    := $(VENV)/bin
# As root on Debian/Ubuntu, missing system packages are installed with apt-get: bubblewrap (the sandbox's
# namespaces) for everything, chromium and its driver for the HTML report tests. Elsewhere, install them yourself.
APT_INSTALL = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=""; for pkg in $(1); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
		if [ -n "$$missing" ]; then echo "installing$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; fi

# As root, student code runs as this unprivileged account (grader/sandbox.py); without it, as `nobody`.
WORKER_ACCOUNT = if [ "$$(id -u)" = 0 ] && ! id grader-worker >/dev/null 2>&1 && command -v useradd >/dev/null; then \
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin grader-worker; fi

.PHONY: setup demo test benchmark clean

$(BIN)/grader: pyproject.toml
	@$(call APT_INSTALL,bubblewrap)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(BIN)/grader

setup: $(BIN)/grader
	@$(WORKER_ACCOUNT)

demo: setup
	$(BIN)/grader course validate
	$(BIN)/grader release
	$(BIN)/grader demo --out out

# One pytest process per core; --dist loadscope keeps each test module in one process, so a module's shared
# fixtures (a graded class, a built release) are made once.
test: setup
	@$(call APT_INSTALL,chromium chromium-driver)
	$(BIN)/python -m pytest -q -n auto --dist loadscope

benchmark: setup
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/grade_assignments.py

clean:
	rm -rf $(VENV) out
