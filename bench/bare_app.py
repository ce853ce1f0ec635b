"""The baseline of bench/gate_bench.py: one Pyramid view and nothing else."""

from pyramid.config import Configurator


def bare(request):
    return {"status": "ok"}


def make_app():
    config = Configurator()
    config.add_route("bare", "/bare")
    config.add_view(bare, route_name="bare", renderer="json")
    return config.make_wsgi_app()


application = make_app()
