"""User administration: users, roles, per-user permissions and departments.

Admins manage their own organisation only; every id from another
organisation is reported as not found. Each change drops the cached session
identities of the users it affects, so new permissions apply on their next
request.
"""

HEX_ID = "[0-9a-f]{32}"


def includeme(config):
    config.add_route("admin_users", "/admin/users")
    config.add_route("admin_user", f"/admin/users/{{user_id:{HEX_ID}}}")
    config.add_route("admin_departments", "/admin/departments")
    config.add_route("admin_department", f"/admin/departments/{{department_id:{HEX_ID}}}")
    config.add_route("admin_department_delete",
                     f"/admin/departments/{{department_id:{HEX_ID}}}/delete")

    config.add_route("api.admin_roles", "/api/v1/admin/roles")
    config.add_route("api.admin_users", "/api/v1/admin/users")
    config.add_route("api.admin_user", f"/api/v1/admin/users/{{user_id:{HEX_ID}}}")
    config.add_route("api.admin_user_permissions",
                     f"/api/v1/admin/users/{{user_id:{HEX_ID}}}/permissions")
    config.add_route("api.admin_departments", "/api/v1/admin/departments")
    config.add_route("api.admin_department",
                     f"/api/v1/admin/departments/{{department_id:{HEX_ID}}}")
    config.add_route("admin_erp_settings", "/admin/settings/erp")
    config.add_route("admin_erp_settings_test", "/admin/settings/erp/test")
    config.add_route("api.admin_erp_settings", "/api/v1/admin/settings/erp")
    config.add_route("api.admin_erp_settings_test", "/api/v1/admin/settings/erp/test")
    config.scan("promax.admin.api")
    config.scan("promax.admin.erp_settings")
    config.scan("promax.admin.pages")
