"""``promax erp-sim``: run the Frappe-like ERP simulator or print its expected figures."""

import ipaddress
import logging

from promax.cli import CommandError, emit
from promax.erpsim.dataset import DEFAULT_SEED, build_dataset
from promax.erpsim.expected import expected_figures

log = logging.getLogger(__name__)


def serve(args, context):
    from promax.erpsim.server import Simulator

    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        # The simulator serves demo data behind a known key; keep it off the network.
        raise CommandError(
            f"--host {args.host!r} is rejected: the simulator listens on loopback addresses "
            "only, for example 127.0.0.1",
            exit_status=2,
        )
    simulator = Simulator(
        build_dataset(args.seed),
        args.api_key,
        args.api_secret,
        host=args.host,
        port=args.port,
        latency_seconds=args.latency_ms / 1000,
    )
    log.info("ERP simulator listening", extra={"url": simulator.url, "seed": args.seed})
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.server.server_close()
    log.info("ERP simulator stopped", extra={"url": simulator.url})
    return {"changed": False, "stopped": True}


def expected(args, context):
    # The figures alone, so the output compares equal to the JSON API's body.
    emit(expected_figures(build_dataset(args.seed)))


def register(subparsers):
    parser = subparsers.add_parser("erp-sim", help="a Frappe-like ERP simulator for tests and demos")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    serve_parser = actions.add_parser("serve", help="serve the simulated ERP API until interrupted")
    serve_parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    serve_parser.add_argument("--port", type=int, default=8800, help="TCP port (0 picks a free one)")
    serve_parser.add_argument("--api-key", required=True, help="API key clients must send")
    serve_parser.add_argument("--api-secret", required=True, help="API secret clients must send")
    serve_parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    serve_parser.add_argument(
        "--latency-ms", type=int, default=0, help="delay added to every request, in milliseconds"
    )
    serve_parser.set_defaults(func=serve)

    expected_parser = actions.add_parser(
        "expected", help="print the sales figures of the simulator's dataset as JSON"
    )
    expected_parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    expected_parser.set_defaults(func=expected)
