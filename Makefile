# imagebuilding-hubs — entry points. `make demo` and `make test` do all their own set-up.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
PYTHON ?= python3
VENV := $(ROOT)/.venv
LOCAL := $(ROOT)/.local
IBH_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/imagebuilding-hubs
IBH_BIN := $(LOCAL)/bin
CLUSTER_DIR := $(LOCAL)/cluster
KUBECONFIG_PATH := $(CLUSTER_DIR)/kubeconfig
# Charts of `make demo`: the genuine unpacked charts in ../shared/charts (directory) or the
# chart repositories (upstream).
CHARTS ?= directory
HUBS ?= 20
FLEET ?=
SIZES ?= 100,300,1000
INVENTORY ?= inventories/local
LIMIT ?=

export IBH_CACHE IBH_BIN
export PATH := $(IBH_BIN):$(VENV)/bin:$(PATH)
export KUBECONFIG := $(KUBECONFIG_PATH)
export K8S_AUTH_KUBECONFIG := $(KUBECONFIG_PATH)
export HELM_PLUGINS := $(IBH_CACHE)/helm-plugins
export HELM_CACHE_HOME := $(LOCAL)/helm/cache
export HELM_CONFIG_HOME := $(LOCAL)/helm/config
export HELM_DATA_HOME := $(LOCAL)/helm/data
export SOPS_DISABLE_VERSION_CHECK := 1
export SOPS_AGE_KEY_FILE := $(LOCAL)/age/keys.txt
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export ANSIBLE_LOCAL_TEMP := $(LOCAL)/ansible-tmp
export ANSIBLE_REMOTE_TEMP := $(LOCAL)/ansible-tmp
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

PLAYBOOK := ansible-playbook
VENV_STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-12)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements.txt
	@echo "[venv] installing pinned Python requirements into .venv"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --upgrade pip
	@$(VENV)/bin/python -m pip install --quiet --progress-bar off -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

.PHONY: venv
venv: $(VENV_STAMP) ## install the pinned Python side into .venv, link the collection into .local/collections
	@scripts/link-collection.sh

.PHONY: tools
tools: ## build the pinned Go tools (cached by version under $IBH_CACHE)
	@scripts/build-tools.sh

.PHONY: age-key
age-key: tools ## make the local age key and inventories/local/.sops.yaml (never committed)
	@scripts/local-age-key.sh

.PHONY: setup
setup: venv tools age-key

.PHONY: cluster-up
cluster-up: setup ## start the embedded local cluster and registry (no-op when running)
	@$(PLAYBOOK) playbooks/local_cluster.yml -e local_cluster_state=started

.PHONY: cluster-down
cluster-down: ## stop the embedded local cluster and registry
	@test -x $(VENV)/bin/ansible-playbook || { echo "nothing to stop (.venv missing)"; exit 0; }; \
	$(PLAYBOOK) playbooks/local_cluster.yml -e local_cluster_state=stopped

.PHONY: cluster-status
cluster-status: ## show the state of the embedded cluster's processes
	@$(PLAYBOOK) playbooks/local_cluster.yml -e local_cluster_state=status

.PHONY: demo
demo: cluster-up ## deploy inventories/local onto the embedded cluster and show it
	@$(PLAYBOOK) -i inventories/local playbooks/site.yml -e hub_charts_source=$(CHARTS)
	@scripts/demo-summary.sh

.PHONY: env
env: ## print shell exports: eval "$$(make -s env)"
	@echo "export PATH=\"$(IBH_BIN):$(VENV)/bin:\$$PATH\""
	@echo "export KUBECONFIG=\"$(KUBECONFIG_PATH)\""
	@echo "export K8S_AUTH_KUBECONFIG=\"$(KUBECONFIG_PATH)\""
	@echo "export HELM_PLUGINS=\"$(HELM_PLUGINS)\""
	@echo "export HELM_CACHE_HOME=\"$(HELM_CACHE_HOME)\" HELM_CONFIG_HOME=\"$(HELM_CONFIG_HOME)\" HELM_DATA_HOME=\"$(HELM_DATA_HOME)\""
	@echo "export SOPS_DISABLE_VERSION_CHECK=1"
	@echo "export SOPS_AGE_KEY_FILE=\"$(SOPS_AGE_KEY_FILE)\""
	@echo "export ANSIBLE_CONFIG=\"$(ANSIBLE_CONFIG)\""

# The GitHub Actions workflows of the examples (docs/examples/**/github-actions/).
ACTIONLINT_WORKFLOWS = $(shell find docs/examples -path '*github-actions*' -type f \( -name '*.yml' -o -name '*.yaml' \) | LC_ALL=C sort)

.PHONY: lint
lint: venv ## ansible-lint (production profile), yamllint, ruff, actionlint on the example workflows
	@echo "[lint] yamllint"; yamllint --strict .
	@echo "[lint] ruff"; ruff check plugins tests scripts
	@echo "[lint] ansible-lint (production profile)"; ansible-lint --profile production
	@# actionlint: the pinned build (tools/actionlint, cached); shellcheck and pyflakes, which it
	@# runs when it finds them on PATH, are not pinned here: off, so every machine lints alike.
	@echo "[lint] actionlint"; scripts/build-tools.sh actionlint; \
	  actionlint -shellcheck= -pyflakes= $(ACTIONLINT_WORKFLOWS)

.PHONY: hub-runtime
hub-runtime: ## install the hub boot's runtime: z2jh 4.4.0's JupyterHub side and configurable-http-proxy (cached under $IBH_CACHE)
	@scripts/hub-runtime.sh

.PHONY: hub-boot
hub-boot: cluster-up hub-runtime ## run a deployed hub's genuine JupyterHub on this machine: HUB=<hub> [NAMESPACE=<its namespace>]
	@test -n "$(HUB)" || { echo "usage: make hub-boot HUB=<hub> (deploy it first: make demo)"; exit 2; }
	@PYTHONPATH=scripts python -m hub_boot start $(or $(NAMESPACE),$(HUB))

.PHONY: hub-stop
hub-stop: ## stop a booted hub and remove what it left: HUB=<hub> [NAMESPACE=<its namespace>]
	@test -n "$(HUB)" || { echo "usage: make hub-stop HUB=<hub>"; exit 2; }
	@PYTHONPATH=scripts python -m hub_boot stop $(or $(NAMESPACE),$(HUB))

.PHONY: binder-runtime
binder-runtime: ## install the binder boot's runtime: the genuine BinderHub of ../shared/binderhub with its pins (cached under $IBH_CACHE)
	@scripts/binder-runtime.sh

.PHONY: binder-boot
binder-boot: hub-boot binder-runtime ## run a deployed hub's genuine BinderHub beside its booted hub: HUB=<hub> [NAMESPACE=<its namespace>]
	@PYTHONPATH=scripts python -m binder_boot start $(or $(NAMESPACE),$(HUB))

.PHONY: binder-stop
binder-stop: ## stop a started BinderHub (the hub stays booted): HUB=<hub> [NAMESPACE=<its namespace>]
	@test -n "$(HUB)" || { echo "usage: make binder-stop HUB=<hub>"; exit 2; }
	@PYTHONPATH=scripts python -m binder_boot stop $(or $(NAMESPACE),$(HUB))

.PHONY: pytest
pytest: cluster-up hub-runtime binder-runtime ## the pytest suite (uses the embedded cluster, registry and sops)
	@pytest -q --durations=15 --ignore=tests/test_bad_inputs.py --ignore=tests/test_faults.py tests

.PHONY: reliability
reliability: cluster-up ## bad-input catalog, fault suite and leak scan; writes reports/reliability.json
	@python scripts/reliability.py

.PHONY: bench
bench: cluster-up ## benchmark: HUBS=20 hubs vs sequential helm; FLEET=generate|DIR a fleet; BENCH_ARGS=--help; reports/bench.json
	@python scripts/bench.py --hubs $(HUBS) $(if $(FLEET),--fleet $(FLEET)) $(BENCH_ARGS)

.PHONY: bench-validate
bench-validate: setup ## benchmark playbooks/validate.yml on generated fleets (SIZES=100,300,1000 hubs); reports/bench.json
	@python scripts/bench.py --validate --sizes $(SIZES) $(BENCH_ARGS)

.PHONY: validate
validate: venv ## validate hubs without changing anything: INVENTORY=inventories/local [LIMIT=hub]; reports/validate.json
	@$(PLAYBOOK) -i $(INVENTORY) playbooks/validate.yml $(if $(LIMIT),-l $(LIMIT)) -e hub_validate_report=$(ROOT)/reports/validate.json

.PHONY: molecule
molecule: setup ## molecule default scenario on the embedded cluster
	@molecule test -s default
	@molecule syntax -s kind

.PHONY: collection
collection: venv ## build the collection artifact (ansible-galaxy collection build) into .local/dist
	@ansible-galaxy collection build --force --output-path $(LOCAL)/dist

.PHONY: ee
ee: venv tools ## the execution environment's build context (ansible-builder create) in .local/ee/context
	@scripts/ee-context.sh

.PHONY: sanity
sanity: venv ## ansible-test sanity on the collection (its test requirements from PyPI, cached)
	@# pep8 and pylint: the project's Python style is ruff's (pyproject.toml, in make lint)
	@scripts/ansible-test.sh sanity --skip-test pep8 --skip-test pylint

.PHONY: units
units: venv ## ansible-test units (tests/unit) on the collection
	@scripts/ansible-test.sh units

.PHONY: test
test: lint sanity units pytest reliability molecule ## everything CI runs

.PHONY: clean
clean: cluster-down ## stop the cluster and remove local state (keeps the tools cache)
	@rm -rf $(LOCAL)/cluster $(LOCAL)/registry $(LOCAL)/ansible-tmp reports
