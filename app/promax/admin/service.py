"""Operations on users and departments shared by the admin API and pages."""

from pyramid.httpexceptions import HTTPConflict, HTTPNotFound
from sqlalchemy import delete, func, select

from promax.audit import record_request_event
from promax.auth import passwords, sessions
from promax.auth.policy import GRANTABLE
from promax.models.control import Department, DepartmentPermission, User, UserPermission
from promax.validation import ValidationFailed


def user_json(dbsession, user):
    changes = dbsession.execute(
        select(UserPermission.permission, UserPermission.allowed)
        .where(UserPermission.user_id == user.id)
        .order_by(UserPermission.permission)
    ).all()
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "department_id": user.department_id,
        "is_active": user.is_active,
        "two_factor_enabled": user.totp_enabled_at is not None,
        "permission_changes": {permission: allowed for permission, allowed in changes},
        "permissions": sorted(sessions.load_permissions(dbsession, user)),
    }


def department_json(dbsession, department):
    permissions = dbsession.scalars(
        select(DepartmentPermission.permission)
        .where(DepartmentPermission.department_id == department.id)
        .order_by(DepartmentPermission.permission)
    ).all()
    members = dbsession.scalar(
        select(func.count()).select_from(User).where(User.department_id == department.id)
    )
    return {"id": department.id, "name": department.name, "permissions": list(permissions),
            "members": members}


def organisation_users(request):
    return request.dbsession.scalars(
        select(User).where(User.organisation_id == request.identity.organisation_id)
        .order_by(User.email)
    ).all()


def organisation_departments(request):
    return request.dbsession.scalars(
        select(Department).where(Department.organisation_id == request.identity.organisation_id)
        .order_by(Department.name)
    ).all()


def load_user(request, user_id):
    user = request.dbsession.get(User, user_id)
    if user is None or user.organisation_id != request.identity.organisation_id:
        raise HTTPNotFound()
    return user


def load_department(request, department_id, field=None):
    """Return a department of the admin's organisation; 404, or 422 on ``field``, if none."""
    department = request.dbsession.get(Department, department_id)
    if department is None or department.organisation_id != request.identity.organisation_id:
        if field is not None:
            raise ValidationFailed({field: ["No such department in this organisation."]})
        raise HTTPNotFound()
    return department


def create_user(request, values):
    dbsession = request.dbsession
    email = values["email"].strip().lower()
    if dbsession.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise HTTPConflict(f"A user with the email {email} already exists.")
    department_id = values.get("department_id")
    if department_id:
        load_department(request, department_id, field="department_id")
    try:
        password_hash = passwords.hash_password(values["password"], email)
    except passwords.PasswordPolicyError as error:
        raise ValidationFailed({"password": [str(error)]}) from None
    user = User(
        organisation_id=request.identity.organisation_id,
        email=email,
        display_name=values.get("display_name") or "",
        password_hash=password_hash,
        role=values["role"],
        department_id=department_id,
        is_active=True,
    )
    dbsession.add(user)
    dbsession.flush()
    record_request_event(request, "user.created", target_user_id=user.id, role=user.role)
    return user


def update_user(request, user, values):
    """Apply role, department, display name and active flag; refuse to lock out oneself."""
    own = user.id == request.identity.user_id
    if own and values.get("role", "admin") != "admin":
        raise ValidationFailed({"role": ["You cannot remove your own admin role."]})
    if own and values.get("is_active") is False:
        raise ValidationFailed({"is_active": ["You cannot deactivate your own account."]})
    if "department_id" in values and values["department_id"] is not None:
        load_department(request, values["department_id"], field="department_id")

    changed = {}
    for name in ("role", "department_id", "display_name", "is_active"):
        if name in values and getattr(user, name) != values[name]:
            setattr(user, name, values[name])
            changed[name] = values[name]
    if not changed:
        return user
    request.dbsession.flush()
    if changed.get("is_active") is False:
        sessions.revoke_user_sessions(request.dbsession, user.id)
    sessions.mark_users_sessions_stale(request.dbsession, [user.id])
    record_request_event(request, "user.updated", target_user_id=user.id, changed=changed)
    return user


def set_user_permissions(request, user, changes):
    """Replace a user's permission changes: {permission: True to grant, False to withdraw}."""
    dbsession = request.dbsession
    dbsession.execute(delete(UserPermission).where(UserPermission.user_id == user.id))
    for permission, allowed in sorted(changes.items()):
        dbsession.add(UserPermission(user_id=user.id, permission=permission, allowed=allowed))
    dbsession.flush()
    sessions.mark_users_sessions_stale(dbsession, [user.id])
    record_request_event(request, "user.permissions_changed", target_user_id=user.id,
                         changes=changes)
    return user


def save_department(request, department, values):
    """Create (department None) or update a department; return it."""
    dbsession = request.dbsession
    name = values.get("name")
    if name is not None:
        name = name.strip()
        clash = dbsession.scalar(select(Department.id).where(
            Department.organisation_id == request.identity.organisation_id,
            Department.name == name,
        ))
        if clash and (department is None or clash != department.id):
            raise HTTPConflict(f"A department named {name!r} already exists.")
    if department is None:
        department = Department(organisation_id=request.identity.organisation_id, name=name)
        dbsession.add(department)
        dbsession.flush()
        event = "department.created"
    else:
        if name is not None:
            department.name = name
        event = "department.updated"
    if "permissions" in values:
        dbsession.execute(delete(DepartmentPermission)
                          .where(DepartmentPermission.department_id == department.id))
        for permission in sorted(set(values["permissions"])):
            dbsession.add(DepartmentPermission(department_id=department.id, permission=permission))
    dbsession.flush()
    mark_members_stale(dbsession, department.id)
    record_request_event(request, event, department_id=department.id, name=department.name)
    return department


def delete_department(request, department):
    dbsession = request.dbsession
    mark_members_stale(dbsession, department.id)
    members = dbsession.scalars(select(User).where(User.department_id == department.id)).all()
    for member in members:
        member.department_id = None
    dbsession.execute(delete(DepartmentPermission)
                      .where(DepartmentPermission.department_id == department.id))
    dbsession.delete(department)
    dbsession.flush()
    record_request_event(request, "department.deleted", department_id=department.id)


def mark_members_stale(dbsession, department_id):
    member_ids = dbsession.scalars(select(User.id).where(User.department_id == department_id)).all()
    sessions.mark_users_sessions_stale(dbsession, member_ids)


def checked_permission_changes(values):
    """Return {permission: allowed} from form fields named ``perm:<permission>``.

    Each field's value is "grant", "withdraw" or "role" (no change).
    """
    changes = {}
    for permission in sorted(GRANTABLE):
        choice = values.get(f"perm:{permission}", "role")
        if choice == "grant":
            changes[permission] = True
        elif choice == "withdraw":
            changes[permission] = False
    return changes

