"""Reasons for the outside auditors' findings that the appliance accepts.

Keys are Lynis test IDs (its suggestions) and testssl.sh finding IDs. The
evidence report prints each reason beside its finding; a finding without an
entry shows as "not waived", and test_auditors.py fails on it.
"""

LYNIS_WAIVERS = {
    "LYNIS": "Lynis comes from the distribution's package (3.0.8 on Debian 12); a newer upstream release is not packaged.",
    "DEB-0810": "apt-listbugs queries bugs.debian.org before every installation and prompts; unattended security updates must not wait for it.",
    "DEB-0811": "apt-listchanges shows changelogs to an administrator at the console; unattended-upgrades runs without one.",
    "LOGG-2190": "Seen right after a converge: services still hold files that the package installs replaced; needrestart lists them, and the next restart of each service releases them.",
    "DEB-0880": "SSH accepts keys only once keys are configured, and MaxAuthTries is 3; fail2ban would add a daemon that rewrites the firewall.",
    "BOOT-5264": "The ProMax units rate 2.0 or lower in systemd-analyze security (tested); the other units are the distribution's.",
    "KRNL-5788": "Test container: the kernel image belongs to the host.",
    "KRNL-6000": "Test container: /proc/sys is read-only and kernel.* values belong to the host; the role writes /etc/sysctl.d/60-promax-hardening.conf, which the tests check.",
    "FILE-6310": "Partitioning is decided when the host is installed, before Ansible runs; the test container has one file system.",
    "NAME-4028": "The appliance's DNS domain comes from the customer's network; the test container has none.",
    "SSH-7408": "Port 22 stays: a non-standard port hides nothing from a scan, and the firewall and key-only login protect the service.",
    "LOGG-2154": "No central log host is part of the appliance; the JSON-lines logs are rotated locally and can be shipped by the customer's agent.",
    "ACCT-9628": "Test container: the kernel accepts audit rules only from the initial PID namespace, so auditd cannot run; the rules file is tested.",
    "TIME-3104": "Test container: the clock belongs to the host and timesyncd skips itself; the role configures it for real hosts.",
    "PKGS-7392": "The test image is built from the release archive; unattended-upgrades installs the pending security updates on its first daily run.",
    "HTTP-6640": "mod_evasive blocks by client address, which behind NAT blocks whole offices; the app rate-limits per address and per user instead.",
    "HTTP-6643": "A ModSecurity rule set needs tuning per application; the app validates every input centrally and sends a strict CSP.",
}

TESTSSL_WAIVERS = {}
