"""Views of the sales overview: an HTML page, the same figures as JSON, and a CSV export."""

import csv
import io

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from promax.audit import record_request_event
from promax.auth.policy import export_permission, tab_permission
from promax.auth.views import LOGIN_TEMPLATE
from promax.cache import TenantCache
from promax.dashboard.figures import sales_overview

TAB = "sales-overview"
TAB_PERMISSION = tab_permission(TAB)
EXPORT_PERMISSION = export_permission(TAB)


def cached_sales_overview(request):
    """Return the signed-in tenant's sales overview, from Memcached when warm.

    The cache scope is a digest of the user's permissions, so users whose
    permissions differ never share an entry. The request's Memcached client
    serves the generation lookup from the rate limiter's prefetch.
    """
    identity = request.identity
    shared = request.registry["cache"]
    cache = TenantCache(request.memcached, shared.ttl_seconds, shared.tier2)
    return cache.cached(
        identity.organisation_id,
        TAB,
        scope=f"perm-{identity.permission_scope}",
        parameters={},
        compute=lambda: sales_overview(request.tenant_db),
    )


@view_config(route_name="home", permission=NO_PERMISSION_REQUIRED)
def home(request):
    """Send a signed-in user to the dashboard; show anyone else the sign-in form."""
    if request.identity is not None:
        return HTTPSeeOther(request.route_url("dashboard"))
    return render_to_response(LOGIN_TEMPLATE, {"email": "", "error": None}, request=request)


@view_config(
    route_name="dashboard",
    request_method="GET",
    renderer="promax:templates/dashboard.jinja2",
    permission=TAB_PERMISSION,
)
def dashboard(request):
    overview = cached_sales_overview(request)
    months = overview["revenue_by_month"]
    peak = max((float(m["revenue"]) for m in months), default=0.0) or 1.0
    bars = [
        {**m, "percent": max(0.0, round(100 * float(m["revenue"]) / peak, 1))} for m in months
    ]
    return {"overview": overview, "bars": bars, "identity": request.identity}


@view_config(
    route_name="api.sales_overview",
    request_method="GET",
    renderer="json",
    permission=TAB_PERMISSION,
)
def sales_overview_api(request):
    """Revenue by month, the top customers and totals of the sales overview tab."""
    return cached_sales_overview(request)


@view_config(
    route_name="api.sales_overview_export",
    request_method="GET",
    permission=EXPORT_PERMISSION,
)
def sales_overview_export(request):
    """Revenue by month of the sales overview tab as CSV, for users with the Export feature."""
    overview = cached_sales_overview(request)
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(["month", "revenue", "invoices", "currency"])
    for month in overview["revenue_by_month"]:
        writer.writerow([month["month"], month["revenue"], month["invoices"],
                         overview["currency"] or ""])
    record_request_event(request, "data.exported", tab=TAB, format="csv",
                         rows=len(overview["revenue_by_month"]))
    response = request.response
    response.content_type = "text/csv"
    response.charset = "utf-8"
    response.content_disposition = f'attachment; filename="{TAB}.csv"'
    response.text = output.getvalue()
    return response
