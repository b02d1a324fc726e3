# Two commands on a fresh machine: `make demo` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test coverage lint format bench bench-browser chromium xmlsec1 peers catalogues clean docs docs-check bwrap

$(BIN)/cocalc-gateway: pyproject.toml | xmlsec1 bwrap
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

# The message catalogues, compiled for Flask-Babel (a build does the same: hatch_build.py),
# and the demo pages' own (gateway/dev, which the wheel leaves out).
CATALOGUES := $(wildcard gateway/translations/*/LC_MESSAGES/messages.po \
                         gateway/dev/translations/*/LC_MESSAGES/messages.po)
install: xmlsec1 bwrap $(BIN)/cocalc-gateway $(CATALOGUES:.po=.mo)

%.mo: %.po | $(BIN)/cocalc-gateway
	@$(BIN)/pybabel compile -i $< -o $@ 2>/dev/null

# After changing a message in the code or a template: the catalogues get its new entry
# (empty: tests/test_catalogues.py fails until it is translated in each language).
catalogues: $(BIN)/cocalc-gateway
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --add-location=file -w 100 \
	  -o $(VENV)/messages.pot . >/dev/null
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d gateway/translations -w 100 -N --ignore-obsolete
	$(BIN)/pybabel extract -F gateway/dev/babel.cfg --add-location=file -w 100 \
	  -o $(VENV)/demo.pot . >/dev/null
	$(BIN)/pybabel update -i $(VENV)/demo.pot -d gateway/dev/translations -w 100 -N --ignore-obsolete

# Debian's xmlsec1: pysaml2 signs and verifies SAML documents by running it.
xmlsec1:
	@command -v xmlsec1 >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends xmlsec1 >/dev/null; }

# Debian's bubblewrap: the simulator runs real programs (a grader) only inside its sandbox.
bwrap:
	@command -v bwrap >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; }

# Debian's Chromium: Playwright's own browser downloads are not possible here.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The test peers from npm: oidc-provider, the OpenID Provider of the SSO tests and the demo;
# axe-core, the accessibility rules the browser tests run on every page; samlify, the SAML
# identity provider of the SAML tests and the demo.
OIDC_PEER := tests/peers/oidc
AXE_PEER := tests/peers/axe
SAML_PEER := tests/peers/saml
peers: $(OIDC_PEER)/node_modules/.package-lock.json $(AXE_PEER)/node_modules/.package-lock.json \
       $(SAML_PEER)/node_modules/.package-lock.json

$(SAML_PEER)/node_modules/.package-lock.json: $(SAML_PEER)/package-lock.json
	npm ci --prefix $(SAML_PEER) --no-audit --no-fund --loglevel=error

$(OIDC_PEER)/node_modules/.package-lock.json: $(OIDC_PEER)/package-lock.json
	npm ci --prefix $(OIDC_PEER) --no-audit --no-fund --loglevel=error

$(AXE_PEER)/node_modules/.package-lock.json: $(AXE_PEER)/package-lock.json
	npm ci --prefix $(AXE_PEER) --no-audit --no-fund --loglevel=error

demo: install peers
	$(BIN)/cocalc-gateway demo

test: install chromium peers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) docs-check
	$(BIN)/pytest

# The documentation site (MkDocs Material): `make docs` serves it on 127.0.0.1:8000;
# `make docs-check` builds it with --strict (a broken link, anchor or page fails).
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

docs-check: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

# The suite under coverage, in one process (coverage does not follow xdist workers); the
# report lists each module's uncovered lines.
coverage: install chromium peers
	$(BIN)/coverage run -m pytest -n 0
	$(BIN)/coverage report --skip-covered --show-missing

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install chromium
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.class_start
	$(BIN)/python -m bench.profile
	$(BIN)/python -m bench.browser

# Only the browser half: click to notebook, cold and warm, beside CoCalc alone.
bench-browser: install chromium
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.browser

clean:
	rm -rf $(VENV) dist build artifacts .pytest_cache .ruff_cache $(OIDC_PEER)/node_modules
