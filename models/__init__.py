"""The application's tables; importing this package registers every model."""

from models.comment import Comment
from models.post import Post
from models.role import Role
from models.user import User
from models.user_role import user_roles

__all__ = ["Comment", "Post", "Role", "User", "user_roles"]
