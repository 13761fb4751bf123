"""The application's tables; importing this package registers every model."""

from models.auth import auth_keys, auth_login_failures, auth_refresh_tokens, auth_sessions
from models.comment import Comment
from models.documents import persisted_documents
from models.post import Post
from models.role import Role
from models.user import User, normalize_email
from models.user_role import user_roles

__all__ = [
    "Comment",
    "Post",
    "Role",
    "User",
    "auth_keys",
    "auth_login_failures",
    "auth_refresh_tokens",
    "auth_sessions",
    "normalize_email",
    "persisted_documents",
    "user_roles",
]
