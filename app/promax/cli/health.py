"""``promax health``: the 8-point health check with Nagios exit codes.

Prints one JSON object and exits 0 (OK), 1 (WARNING), 2 (CRITICAL) or
3 (UNKNOWN). With ``--alert`` it also sends a problem or recovery notice,
once per incident, through the channels set in PROMAX_ALERT_* variables.
"""

import dataclasses
import sys

from promax.cli import emit
from promax.health_check import (
    STATUS_NAMES,
    AlertConfig,
    HealthConfig,
    process_alert,
    run_checks,
    worst_status,
)

DEFAULT_STATE_FILE = "/var/lib/promax/health-state.json"


def health(args, context):
    config = HealthConfig.from_environ(context.environ)
    if args.skip_erp:
        config = dataclasses.replace(config, check_erp=False)
    results = run_checks(context, config)
    status = worst_status(result.status for result in results)
    report = {
        "changed": False,
        "status": STATUS_NAMES[status],
        "exit_code": status,
        "checks": [result.as_dict() for result in results],
    }
    if args.alert:
        state_file = args.state_file or context.environ.get("PROMAX_HEALTH_STATE_FILE", DEFAULT_STATE_FILE)
        report["alert"] = process_alert(report, status, state_file, AlertConfig.from_environ(context.environ))
    emit(report)
    sys.stdout.flush()
    if status:
        # main() exits 0 after a command returns, so the Nagios status leaves through SystemExit.
        raise SystemExit(status)


def register(subparsers):
    parser = subparsers.add_parser(
        "health",
        help="run the 8-point health check (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)",
    )
    parser.add_argument(
        "--alert",
        action="store_true",
        help="send a problem or recovery notice by mail or webhook, once per incident",
    )
    parser.add_argument(
        "--state-file",
        default=None,
        help=f"incident state file for --alert (default: $PROMAX_HEALTH_STATE_FILE or {DEFAULT_STATE_FILE})",
    )
    parser.add_argument("--skip-erp", action="store_true", help="skip the ERP API reachability check")
    parser.set_defaults(func=health)
