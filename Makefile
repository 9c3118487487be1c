# The two commands of the README: `make demo` and `make test`.
# Each creates the virtual environment (.venv) itself on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint browsers npm-tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/finale demo $(ARGS)

# Debian packages the tests drive for real: Chromium for the pages, tmux for what only a terminal shows,
# redis-server for the audience path across many hubs, haproxy to run the README's load balancer sample.
browsers:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/tmux ] || [ ! -x /usr/bin/redis-server ] || [ ! -x /usr/sbin/haproxy ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver tmux redis-server haproxy; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver tmux redis-server haproxy; fi; \
	fi

# axe-core for the accessibility tests, pinned by package-lock.json (installed once; nothing is fetched at test time).
npm-tools:
	@if [ ! -d node_modules/axe-core ]; then \
		command -v npm >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
			else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; fi; }; \
		npm ci --no-audit --no-fund; \
	fi

# pytest-xdist runs the suite on both cores (-n 2): it mostly waits on sockets and timers, so two workers
# nearly halve it; the tests marked `serial` (they measure time or the process's CPU) run alone, first:
# right after nine minutes of both cores busy, this shared machine answered slower (the endpoint-fault
# drill's ping p99 was 256-304 ms in 3 of 5 such runs against its 250 ms bound; 25-33 ms on a rested one).
test: $(STAMP) browsers npm-tools
	$(BIN)/ruff check finale audience tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q -m serial --durations=5 $(ARGS) || [ $$? -eq 5 ]
	$(BIN)/pytest -q -n 2 -m "not serial" --durations=15 $(ARGS) || [ $$? -eq 5 ]

lint: $(STAMP)
	$(BIN)/ruff check finale audience tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
