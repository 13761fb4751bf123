"""One repository per model: the queries the API runs."""

from repositories.comment import CommentRepository
from repositories.post import PostRepository
from repositories.role import RoleRepository
from repositories.user import UserRepository

__all__ = ["CommentRepository", "PostRepository", "RoleRepository", "UserRepository"]
