"""The GraphQL documents the clients send, and the words they make values of.

Every request is a named operation with variables, so the server log and the
report can name it; one module keeps them together to read against the contract.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

USER_BY_ID = """query userById($id: ID!) {
  user(id: $id) { id name email createdAt roles { name }
    posts(first: 3, orderBy: [{field: CREATED_AT, direction: DESC}]) {
      totalCount nodes { id title } } } }"""

POST_BY_ID = """query postById($id: ID!) {
  post(id: $id) { id title published deletedAt author { id name }
    comments(first: 5) { totalCount nodes { id body author { name } } } } }"""

COMMENT_BY_ID = """query commentById($id: ID!) {
  comment(id: $id) { id body createdAt post { id title } author { id name } } }"""

USERS_FILTERED = """query usersFiltered($where: UserFilter, $orderBy: [UserOrder!]) {
  users(first: 20, where: $where, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name email } } } }"""

POSTS_FILTERED = """query postsFiltered($first: Int, $where: PostFilter, $orderBy: [PostOrder!]) {
  posts(first: $first, where: $where, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id title published createdAt author { name } } } }"""

COMMENTS_FILTERED = """query commentsFiltered($where: CommentFilter, $orderBy: [CommentOrder!]) {
  comments(first: 10, where: $where, orderBy: $orderBy) {
    totalCount nodes { id body createdAt author { name } post { title } } } }"""

POSTS_PAGE = """query postsPage($after: String, $where: PostFilter, $orderBy: [PostOrder!]) {
  posts(first: 20, after: $after, where: $where, orderBy: $orderBy) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id title createdAt } } } }"""

USERS_PAGE = """query usersPage($after: String, $where: UserFilter, $orderBy: [UserOrder!]) {
  users(first: 20, after: $after, where: $where, orderBy: $orderBy) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }"""

COMMENTS_PAGE = """query commentsPage($after: String, $where: CommentFilter,
    $orderBy: [CommentOrder!]) {
  comments(first: 20, after: $after, where: $where, orderBy: $orderBy) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id body } } } }"""

NESTED = """query nested($after: String) {
  users(first: 5, after: $after) { pageInfo { hasNextPage endCursor } nodes { id name
    posts(first: 5, orderBy: [{field: CREATED_AT, direction: DESC}]) { nodes { id title
      comments(first: 5) { nodes { id body author { id name } } } } } } } }"""

NODE_FIELDS = """__typename id ... on User { name } ... on Post { title }
    ... on Comment { body } ... on Role { name }"""
NODE = f"query node($id: ID!) {{ node(id: $id) {{ {NODE_FIELDS} }} }}"
NODES = f"query nodes($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_FIELDS} }} }}"

CREATE_USER = """mutation createUser($input: CreateUserInput!) {
  createUser(input: $input) { id name email createdAt } }"""
UPDATE_USER = """mutation updateUser($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id name email updatedAt } }"""
CREATE_POST = """mutation createPost($input: CreatePostInput!) {
  createPost(input: $input) { id title body published author { id } } }"""
UPDATE_POST = """mutation updatePost($id: ID!, $input: UpdatePostInput!) {
  updatePost(id: $id, input: $input) { id title published updatedAt } }"""
DELETE_POST = "mutation deletePost($id: ID!) { deletePost(id: $id) { id deletedAt } }"
RESTORE_POST = "mutation restorePost($id: ID!) { restorePost(id: $id) { id deletedAt } }"
CREATE_COMMENT = """mutation createComment($input: CreateCommentInput!) {
  createComment(input: $input) { id body post { id } author { id } } }"""
DELETE_COMMENT = "mutation deleteComment($id: ID!) { deleteComment(id: $id) { id body } }"
ASSIGN_ROLE = """mutation assignRole($userId: ID!, $roleId: ID!) {
  assignRole(userId: $userId, roleId: $roleId) { id roles { id name } } }"""
REVOKE_ROLE = """mutation revokeRole($userId: ID!, $roleId: ID!) {
  revokeRole(userId: $userId, roleId: $roleId) { id roles { id name } } }"""

WORDS = ("commit", "index", "latency", "window", "replica", "cursor", "query", "socket", "kernel")
FRAGMENTS = ("an", "el", "ar", "on", "is", "ra", "ie", "ch")
INITIALS = "ABDEGJKLMRTW"


def decode_id(value: Any) -> tuple[str, int] | None:
    """``(type name, key)`` of a global ID, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        type_name, _, key = base64.b64decode(value, validate=True).decode().partition(":")
        return type_name, int(key)
    except (binascii.Error, UnicodeError, ValueError):
        return None
