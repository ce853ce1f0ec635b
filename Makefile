# ---------------------------------------------------------------------------
# Host and appliance targets: test image, Ansible lint, molecule, demo.
# All of them run as root on a Debian 12 machine with podman.
# ---------------------------------------------------------------------------

SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
WHEELHOUSE := build/wheelhouse
IMAGE := localhost/promax-debian12:latest
DEMO_CONTAINER := promax-demo

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Podman reads this file instead of /etc/containers/containers.conf: runc and
# ulimits that work on the CI machines.
export CONTAINERS_CONF := $(CURDIR)/tests/host/containers.conf
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles

.PHONY: host-deps test-deps venv wheelhouse image lint molecule demo test test-app audit

## Install podman, runc and debootstrap with apt when they are missing.
host-deps:
	@missing=""; \
	for tool in podman runc debootstrap; do \
	  command -v $$tool >/dev/null || missing="$$missing $$tool"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

## Install the servers and the browser that the tests start, and testssl.sh,
## which molecule's verify step runs against the test host.
test-deps: host-deps
	@missing=""; \
	for pair in mariadbd:mariadb-server memcached:memcached chromium:chromium testssl:testssl.sh; do \
	  command -v $${pair%%:*} >/dev/null || [ -x /usr/sbin/$${pair%%:*} ] || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

## Run every test: Ansible lint, the application tests, then molecule.
test: lint test-app molecule

## Application tests against throwaway MariaDB and Memcached servers.
test-app: venv test-deps
	$(VENV)/bin/pytest tests/app

## Create .venv with the development tools and the app in editable mode.
venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt requirements.txt setup.py
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install --disable-pip-version-check -e .
	touch $@

## Build the wheels that the promax_app role installs on the host.
wheelhouse: venv
	mkdir -p $(WHEELHOUSE)
	rm -f $(WHEELHOUSE)/promax-*.whl
	$(VENV)/bin/pip wheel --disable-pip-version-check --only-binary=:all: --wheel-dir $(WHEELHOUSE) -r requirements.txt
	$(VENV)/bin/pip wheel --disable-pip-version-check --no-deps --wheel-dir $(WHEELHOUSE) .

## Build the Debian 12 systemd test image (skipped when it exists).
image: host-deps
	tests/host/build-image.sh

## Lint the playbooks and roles with the production profile (.ansible-lint).
lint: venv
	ansible-lint --profile production playbooks/ roles/

## Converge a test container, check idempotence and run tests/infra.
molecule: venv image wheelhouse test-deps
	molecule test -s default

## Start the demo appliance on https://127.0.0.1:8443/ and seed it.
demo: host-deps venv image wheelhouse
	podman rm --force --ignore $(DEMO_CONTAINER)
	# CAP_NET_ADMIN lets the host firewall (nftables) load; it acts on the
	# container's own network namespace only.
	podman run --detach --name $(DEMO_CONTAINER) --hostname $(DEMO_CONTAINER) \
	  --systemd=always --cap-add NET_ADMIN \
	  --publish 127.0.0.1:8080:80 --publish 127.0.0.1:8443:443 $(IMAGE)
	# systemctl fails at once until systemd has created its bus socket, so wait
	# for the socket before asking systemd to wait for the boot to finish.
	podman exec $(DEMO_CONTAINER) timeout 120 sh -c \
	  'until [ -S /run/systemd/private ]; do sleep 1; done; systemctl is-system-running --wait'
	ansible-playbook -i inventory/demo playbooks/site.yml playbooks/demo-data.yml
	podman exec $(DEMO_CONTAINER) cat /etc/promax/demo-admin.json > build/demo.json
	chmod 600 build/demo.json
	@$(PYTHON) -c 'import json; login = json.load(open("build/demo.json")); \
	print("\nProMax demo: {url} (self-signed certificate)".format(**login)); \
	print("Organisation: {org}".format(**login)); \
	print("Login: {email} / {password}".format(**login)); \
	print("Written to build/demo.json")'

## Audit the hosts of an inventory and write the evidence report:
##   make audit INVENTORY=inventory/production [HTTPS_URL=https://host:443]
## Writes build/audit/junit.xml, report.md, results.json, lynis-report.dat
## and testssl.json. Lynis must be on the hosts (hardening_lynis_enabled) and
## testssl.sh on this machine (apt-get install testssl.sh).
INVENTORY ?= inventory/demo
AUDIT_DIR ?= build/audit
HTTPS_URL ?=
audit: venv
	mkdir -p $(AUDIT_DIR)
	rm -f $(AUDIT_DIR)/lynis-report.dat $(AUDIT_DIR)/testssl.json
	hosts="$$($(PYTHON) tools/audit_hosts.py $(INVENTORY))" && \
	url="$${HTTPS_URL:-$$($(PYTHON) tools/audit_hosts.py --https-url $(INVENTORY))}" && \
	PROMAX_AUDIT_DIR=$(CURDIR)/$(AUDIT_DIR) PROMAX_HTTPS_URL="$$url" \
	  $(VENV)/bin/pytest -p no:cacheprovider --hosts="$$hosts" --ansible-inventory=$(INVENTORY) \
	  --junitxml=$(AUDIT_DIR)/junit.xml -o junit_family=xunit2 \
	  tests/infra/test_host.py tests/infra/test_hardening.py tests/infra/test_auditors.py; \
	status=$$?; echo "Evidence report: $(AUDIT_DIR)/report.md"; exit $$status
