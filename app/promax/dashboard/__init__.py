"""The dashboard: the sales overview page and its JSON endpoint."""


def includeme(config):
    config.add_route("home", "/")
    config.add_route("dashboard", "/dashboard")
    config.add_route("api.sales_overview", "/api/v1/overview/sales")
    config.add_route("api.sales_overview_export", "/api/v1/overview/sales/export.csv")
    config.scan("promax.dashboard.views")
