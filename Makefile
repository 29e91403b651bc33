# Two commands do all set-up on a fresh machine:
#   make run    - the bot on its embedded default (SQLite, console channel, sample configuration)
#   make test   - the whole test suite (ruff, then pytest)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SYNAPSE_VENV ?= .venv-synapse  # Synapse for the Matrix tests, in a virtualenv of its own
STAMP  := $(VENV)/.installed

.PHONY: run chat test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres,report]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cjgbot run

chat: $(STAMP)
	$(BIN)/cjgbot chat

# With CJGBOT_TEST_POSTGRES set (.ci/run starts a server), the suite runs on PostgreSQL too.
test: $(STAMP)
	PYTHON=$(PYTHON) bash .ci/install-synapse.sh $(SYNAPSE_VENV)
	$(BIN)/ruff check .
	env -u CJGBOT_TEST_POSTGRES $(BIN)/python -m pytest -q
	@if [ -n "$$CJGBOT_TEST_POSTGRES" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		$(BIN)/python -m pytest -q -p no:cacheprovider; \
	fi

bench: $(STAMP)
	$(BIN)/python bench/pipeline_latency.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/sweep.py --count 100000
	PYTHON=$(PYTHON) bash .ci/install-synapse.sh $(SYNAPSE_VENV)
	$(BIN)/python bench/matrix_latency.py

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .pytest_cache .ruff_cache
