"""JSON API of user administration, for admins of the organisation."""

from marshmallow import fields, validate
from pyramid.view import view_config

from promax.admin import service
from promax.auth.policy import FEATURES, GRANTABLE, ROLE_PERMISSIONS, ROLES, TABS, tab_permission
from promax.validation import StrictSchema, rules

PERMISSION = "organisation.users"
# Text without control characters that neither starts nor ends with a space.
# The classes avoid \s because Python and JavaScript disagree on what it
# matches, and clients check this pattern from the OpenAPI document.
DEPARTMENT_NAME = r"^[^ \x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^ \x00-\x1f\x7f])?$"


class RoleSchema(StrictSchema):
    name = rules.one_of(ROLES, required=True)
    permissions = rules.list_of(rules.string(), required=True)


class RoleCatalogueSchema(StrictSchema):
    roles = rules.list_of(rules.nested(RoleSchema), required=True)
    tabs = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    features = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class UserSchema(StrictSchema):
    id = rules.hex_id(required=True)
    email = rules.email(required=True)
    display_name = rules.string(required=True)
    role = rules.one_of(ROLES, required=True)
    department_id = rules.hex_id(required=True, allow_none=True)
    is_active = rules.boolean(required=True)
    two_factor_enabled = rules.boolean(required=True)
    permission_changes = fields.Dict(keys=fields.String(), values=rules.boolean(), required=True)
    permissions = rules.list_of(rules.string(), required=True)


class UserListSchema(StrictSchema):
    users = rules.list_of(rules.nested(UserSchema), required=True)


class UserCreateBody(StrictSchema):
    email = rules.email(required=True)
    display_name = rules.string(max_length=200)
    role = rules.one_of(ROLES, required=True)
    department_id = rules.hex_id(allow_none=True)
    # promax.auth.passwords checks the rest of the policy: at most 72 bytes,
    # not a common password, not a single repeated character.
    password = rules.string(min_length=12, max_length=72, required=True)


class UserUpdateBody(StrictSchema):
    display_name = rules.string(max_length=200)
    role = rules.one_of(ROLES)
    department_id = rules.hex_id(allow_none=True)
    is_active = rules.boolean()


class PermissionChangesBody(StrictSchema):
    # True grants the permission on top of the role, False withdraws it.
    permissions = fields.Dict(
        keys=fields.String(validate=validate.OneOf(sorted(GRANTABLE))),
        values=rules.boolean(),
        required=True,
    )


class DepartmentSchema(StrictSchema):
    id = rules.hex_id(required=True)
    name = rules.string(required=True)
    permissions = rules.list_of(rules.string(), required=True)
    members = rules.integer(minimum=0, required=True)


class DepartmentListSchema(StrictSchema):
    departments = rules.list_of(rules.nested(DepartmentSchema), required=True)


class DepartmentCreateBody(StrictSchema):
    name = rules.regex(DEPARTMENT_NAME, max_length=100, required=True,
                       error="Must not be empty or start or end with a space.")
    permissions = rules.list_of(rules.one_of(sorted(GRANTABLE)), max_items=len(GRANTABLE))


class DepartmentUpdateBody(StrictSchema):
    name = rules.regex(DEPARTMENT_NAME, max_length=100,
                       error="Must not be empty or start or end with a space.")
    permissions = rules.list_of(rules.one_of(sorted(GRANTABLE)), max_items=len(GRANTABLE))


class DeletedSchema(StrictSchema):
    deleted = rules.boolean(required=True)


@view_config(route_name="api.admin_roles", request_method="GET", renderer="json",
             permission=PERMISSION, response_schema=RoleCatalogueSchema)
def roles_api(request):
    """List the roles with their default permissions, the tabs and the features."""
    return {
        "roles": [{"name": role, "permissions": sorted(ROLE_PERMISSIONS[role])} for role in ROLES],
        "tabs": {tab_permission(tab): title for tab, title in TABS.items()},
        "features": dict(FEATURES),
    }


@view_config(route_name="api.admin_users", request_method="GET", renderer="json",
             permission=PERMISSION, response_schema=UserListSchema)
def users_api(request):
    """List the users of the organisation."""
    return {"users": [service.user_json(request.dbsession, user)
                      for user in service.organisation_users(request)]}


@view_config(route_name="api.admin_users", request_method="POST", renderer="json",
             permission=PERMISSION, body_schema=UserCreateBody, response_schema=UserSchema)
def user_create_api(request):
    """Create a user in the organisation."""
    user = service.create_user(request, request.validated["body"])
    return service.user_json(request.dbsession, user)


@view_config(route_name="api.admin_user", request_method="GET", renderer="json",
             permission=PERMISSION, response_schema=UserSchema)
def user_api(request):
    """Show one user with their effective permissions."""
    user = service.load_user(request, request.matchdict["user_id"])
    return service.user_json(request.dbsession, user)


@view_config(route_name="api.admin_user", request_method="PATCH", renderer="json",
             permission=PERMISSION, body_schema=UserUpdateBody, response_schema=UserSchema)
def user_update_api(request):
    """Change a user's role, department, display name or active flag."""
    user = service.load_user(request, request.matchdict["user_id"])
    service.update_user(request, user, request.validated["body"])
    return service.user_json(request.dbsession, user)


@view_config(route_name="api.admin_user_permissions", request_method="PUT", renderer="json",
             permission=PERMISSION, body_schema=PermissionChangesBody, response_schema=UserSchema)
def user_permissions_api(request):
    """Replace a user's per-user grants and withdrawals of tabs and features."""
    user = service.load_user(request, request.matchdict["user_id"])
    service.set_user_permissions(request, user, request.validated["body"]["permissions"])
    return service.user_json(request.dbsession, user)


@view_config(route_name="api.admin_departments", request_method="GET", renderer="json",
             permission=PERMISSION, response_schema=DepartmentListSchema)
def departments_api(request):
    """List the departments of the organisation."""
    return {"departments": [service.department_json(request.dbsession, department)
                            for department in service.organisation_departments(request)]}


@view_config(route_name="api.admin_departments", request_method="POST", renderer="json",
             permission=PERMISSION, body_schema=DepartmentCreateBody,
             response_schema=DepartmentSchema)
def department_create_api(request):
    """Create a department with the tabs and features its members get."""
    department = service.save_department(request, None, request.validated["body"])
    return service.department_json(request.dbsession, department)


@view_config(route_name="api.admin_department", request_method="PATCH", renderer="json",
             permission=PERMISSION, body_schema=DepartmentUpdateBody,
             response_schema=DepartmentSchema)
def department_update_api(request):
    """Rename a department or replace its permissions."""
    department = service.load_department(request, request.matchdict["department_id"])
    service.save_department(request, department, request.validated["body"])
    return service.department_json(request.dbsession, department)


@view_config(route_name="api.admin_department", request_method="DELETE", renderer="json",
             permission=PERMISSION, response_schema=DeletedSchema)
def department_delete_api(request):
    """Delete a department; its members keep their roles and own permissions."""
    department = service.load_department(request, request.matchdict["department_id"])
    service.delete_department(request, department)
    return {"deleted": True}
