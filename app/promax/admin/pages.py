"""HTML pages of user administration; the forms post back to these views."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from promax.admin import service
from promax.admin.api import PERMISSION, DepartmentCreateBody, UserCreateBody, UserUpdateBody
from promax.auth.policy import FEATURES, GRANTABLE, ROLE_PERMISSIONS, ROLES, TABS, tab_permission
from promax.validation import ValidationFailed, load

USERS_TEMPLATE = "promax:templates/admin_users.jinja2"
USER_TEMPLATE = "promax:templates/admin_user.jinja2"
DEPARTMENTS_TEMPLATE = "promax:templates/admin_departments.jinja2"


def permission_titles():
    titles = {tab_permission(tab): f"Tab: {title}" for tab, title in TABS.items()}
    titles.update({name: f"Feature: {title}" for name, title in FEATURES.items()})
    return dict(sorted(titles.items()))


def _field_messages(error):
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.fields.items())


def users_values(request, error=None):
    return {
        "users": [service.user_json(request.dbsession, u) for u in service.organisation_users(request)],
        "departments": service.organisation_departments(request),
        "roles": ROLES,
        "error": error,
    }


@view_config(route_name="admin_users", request_method="GET", renderer=USERS_TEMPLATE,
             permission=PERMISSION)
def users_page(request):
    return users_values(request)


@view_config(route_name="admin_users", request_method="POST", renderer=USERS_TEMPLATE,
             permission=PERMISSION)
def user_create_form(request):
    form = request.POST
    values = {
        "email": form.get("email", "").strip(),
        "display_name": form.get("display_name", "").strip()[:200],
        "role": form.get("role", ""),
        "department_id": form.get("department_id") or None,
        "password": form.get("password", ""),
    }
    try:
        service.create_user(request, load(UserCreateBody(), values))
    except ValidationFailed as error:
        request.response.status_int = 422
        return users_values(request, _field_messages(error))
    return HTTPSeeOther(request.route_url("admin_users"))


def user_values(request, user, error=None):
    return {
        "user": service.user_json(request.dbsession, user),
        "departments": service.organisation_departments(request),
        "roles": ROLES,
        "role_permissions": {role: sorted(ROLE_PERMISSIONS[role] & GRANTABLE) for role in ROLES},
        "permission_titles": permission_titles(),
        "error": error,
    }


@view_config(route_name="admin_user", request_method="GET", renderer=USER_TEMPLATE,
             permission=PERMISSION)
def user_page(request):
    return user_values(request, service.load_user(request, request.matchdict["user_id"]))


@view_config(route_name="admin_user", request_method="POST", renderer=USER_TEMPLATE,
             permission=PERMISSION)
def user_update_form(request):
    user = service.load_user(request, request.matchdict["user_id"])
    form = request.POST
    try:
        values = load(UserUpdateBody(), {
            "display_name": form.get("display_name", "").strip()[:200],
            "role": form.get("role", ""),
            "department_id": form.get("department_id") or None,
            "is_active": form.get("is_active") == "on",
        })
        service.update_user(request, user, values)
    except ValidationFailed as error:
        request.response.status_int = 422
        return user_values(request, user, _field_messages(error))
    service.set_user_permissions(request, user, service.checked_permission_changes(form))
    return HTTPSeeOther(request.route_url("admin_user", user_id=user.id))


def departments_values(request, error=None):
    return {
        "departments": [service.department_json(request.dbsession, d)
                        for d in service.organisation_departments(request)],
        "permission_titles": permission_titles(),
        "error": error,
    }


@view_config(route_name="admin_departments", request_method="GET",
             renderer=DEPARTMENTS_TEMPLATE, permission=PERMISSION)
def departments_page(request):
    return departments_values(request)


def _department_form_values(request):
    return load(DepartmentCreateBody(), {
        "name": request.POST.get("name", "").strip(),
        "permissions": [p for p in request.POST.getall("permissions") if p in GRANTABLE],
    })


@view_config(route_name="admin_departments", request_method="POST",
             renderer=DEPARTMENTS_TEMPLATE, permission=PERMISSION)
def department_create_form(request):
    try:
        service.save_department(request, None, _department_form_values(request))
    except ValidationFailed as error:
        request.response.status_int = 422
        return departments_values(request, _field_messages(error))
    return HTTPSeeOther(request.route_url("admin_departments"))


@view_config(route_name="admin_department", request_method="POST",
             renderer=DEPARTMENTS_TEMPLATE, permission=PERMISSION)
def department_update_form(request):
    department = service.load_department(request, request.matchdict["department_id"])
    try:
        service.save_department(request, department, _department_form_values(request))
    except ValidationFailed as error:
        request.response.status_int = 422
        return departments_values(request, _field_messages(error))
    return HTTPSeeOther(request.route_url("admin_departments"))


@view_config(route_name="admin_department_delete", request_method="POST", permission=PERMISSION)
def department_delete_form(request):
    department = service.load_department(request, request.matchdict["department_id"])
    service.delete_department(request, department)
    return HTTPSeeOther(request.route_url("admin_departments"))
