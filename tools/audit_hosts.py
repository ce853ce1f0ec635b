#!/usr/bin/env python3
"""Print the testinfra --hosts value, or the HTTPS URL, for an Ansible inventory.

    tools/audit_hosts.py INVENTORY            -> podman://promax-demo,ansible://web1
    tools/audit_hosts.py INVENTORY --https-url -> https://127.0.0.1:8443

Hosts that Ansible reaches with the podman connection plugin are checked
through podman directly, because testinfra's ansible backend cannot use that
plugin. All other hosts go through the ansible backend, which uses SSH with
the inventory's user, key and become settings.
The HTTPS URL is that of the first host of the `promax` group: the port
that podman publishes for a container's port 443, else port 443 of
ansible_host.
"""

import argparse
import json
import subprocess
import sys

PODMAN_CONNECTIONS = {"containers.podman.podman", "podman"}


def load_inventory(path):
    output = subprocess.run(
        ["ansible-inventory", "-i", path, "--list"], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)


def promax_hosts(inventory):
    """Return the hosts of the promax group and its children, in inventory order."""
    hosts = []
    pending = ["promax"]
    while pending:
        group = inventory.get(pending.pop(0), {})
        hosts += [host for host in group.get("hosts", []) if host not in hosts]
        pending += group.get("children", [])
    return hosts


def host_spec(name, hostvars):
    if hostvars.get("ansible_connection") in PODMAN_CONNECTIONS:
        return f"podman://{hostvars.get('ansible_host', name)}"
    return f"ansible://{name}"


def https_url(name, hostvars):
    if hostvars.get("ansible_connection") in PODMAN_CONNECTIONS:
        container = hostvars.get("ansible_host", name)
        mapping = subprocess.run(
            ["podman", "port", container, "443/tcp"], capture_output=True, text=True, check=True
        ).stdout.split()
        if not mapping:
            raise SystemExit(f"audit_hosts: container {container} publishes no port for 443/tcp")
        return f"https://{mapping[0]}"
    return f"https://{hostvars.get('ansible_host', name)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inventory", help="Ansible inventory file or directory")
    parser.add_argument("--https-url", action="store_true", help="print the HTTPS URL of the first host")
    args = parser.parse_args()

    inventory = load_inventory(args.inventory)
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    hosts = promax_hosts(inventory)
    if not hosts:
        print(f"audit_hosts: the inventory {args.inventory} has no host in group promax", file=sys.stderr)
        return 1
    if args.https_url:
        print(https_url(hosts[0], hostvars.get(hosts[0], {})))
    else:
        print(",".join(host_spec(host, hostvars.get(host, {})) for host in hosts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
