"""Accounts: scrypt password hashes and bearer tokens (stored as SHA-256), from the standard library; the
password rule every new password must meet; and a login that takes as long for an unknown user as for a
wrong password."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiqi.store.base import as_utc, utcnow
from huiqi.store.errors import Conflict, InvalidInput, NotFound
from huiqi.store.models import ROLES, Token, User

#: scrypt cost: 2**14 × 8 × 1 takes about 16 MiB and tens of milliseconds — slow for a guesser, fine for a login.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), a fresh salt each time."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"


#: A well-formed hash no password matches in practice: an unknown or inactive user's login is checked against
#: it, so that it costs one scrypt like a wrong password and the answer time does not tell which names exist.
_DUMMY_HASH = "$".join(
    ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), base64.b64encode(bytes(16)).decode(),
     base64.b64encode(bytes(32)).decode()]
)  # fmt: skip

#: What the password rule asks, said once (the messages below start with what is wrong, then say this).
_RULE = (
    "密码至少10位，且包含大写字母、小写字母、数字、其他符号中的至少3类（16位及以上不限字符类别）；"
    "不得包含用户名，不得使用常见密码"
)
PASSWORD_RULE = _RULE
PASSWORD_MIN, PASSWORD_LONG, PASSWORD_CLASSES = 10, 16, 3

#: Common passwords (compared case-insensitively) that meet the length and classes but are guessed first:
#: leaked-list favourites, keyboard walks, and this project's own defaults.
COMMON_PASSWORDS = frozenset(
    p.lower()
    for p in (
        "changethis", "password1!", "password123", "password@123", "password123!", "passw0rd!", "p@ssw0rd123",
        "p@ssword123", "admin@123456", "admin123456", "admin12345!", "administrator", "administrator1",
        "qwerty123!", "qwerty@123", "qwertyuiop", "qwertyuiop1", "1qaz2wsx3edc", "1qaz@wsx3edc", "1qaz!qaz1qaz",
        "zaq12wsx!", "zxcvbnm123", "123qweasdzxc", "1q2w3e4r5t", "1q2w3e4r5t6y", "a1234567890", "abc123456789",
        "abcd1234!@#$", "aa123456789", "qq123456789", "woaini1314", "woaini520!", "iloveyou123", "iloveyou1!",
        "huiqi@123456", "huiqi123456", "welcome123!", "welcome@123", "letmein123!", "1234567890", "12345678910",
        "0123456789", "9876543210", "1234567890a", "a123456789!", "a1b2c3d4e5", "q1w2e3r4t5", "asdfghjkl1",
        "abcdefghijklmnop", "1234567890123456", "passwordpassword", "qwertyuiopasdfgh", "1q2w3e4r5t6y7u8i",
    )
)  # fmt: skip


def password_problem(password: str, *, username: str = "") -> str | None:
    """What is wrong with ``password`` under the rule (``PASSWORD_RULE``), in Chinese; None if it is fine.

    At least 10 characters and 3 of the 4 classes (lower case, upper case, digits, anything else — a Chinese
    character counts as "else"), or at least 16 characters of any kind; never containing the username
    (names of 3 characters or more, case-insensitively); never one of ``COMMON_PASSWORDS``.
    """
    if len(password) < PASSWORD_MIN:
        reason = f"密码太短（{len(password)}位）"
    elif len(password) < PASSWORD_LONG and _classes(password) < PASSWORD_CLASSES:
        reason = "密码的字符类别太少"
    elif len(username) >= 3 and username.lower() in password.lower():
        reason = "密码不得包含用户名"
    elif password.lower() in COMMON_PASSWORDS:
        reason = "密码过于常见，容易被猜中"
    else:
        return None
    return f"{reason}：{PASSWORD_RULE}"


def _classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    return lower + upper + digit + other


def check_password_rule(password: str, *, username: str = "") -> None:
    """Raise ``InvalidInput`` (field ``password``) unless ``password`` meets the rule."""
    problem = password_problem(password, username=username)
    if problem is not None:
        raise InvalidInput(problem, where="password")


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from ``hash_password`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    entity_id: int | None = None,
    expert_id: int | None = None,
    check_rule: bool = True,
) -> User:
    """A new account; an applicant must act for an entity, an expert must be an expert of the pool.

    The password must meet the rule (``password_problem``); ``check_rule=False`` is for the first
    administrator only, whose password the settings check instead (``huiqi.workflow.bootstrap``).
    """
    if role not in ROLES:
        raise InvalidInput(f"角色 {role!r} 无效：可用 {'、'.join(ROLES)}", where="role")
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("用户名应为1–64位字母、数字、- 或 _", where="username")
    if check_rule:
        check_password_rule(password, username=username)
    if role == "applicant" and entity_id is None:
        raise InvalidInput("申报主体账号须关联一个已登记的主体（entity_id）", where="entity_id")
    if role == "expert" and expert_id is None:
        raise InvalidInput("评审专家账号须关联专家库中的专家（expert_id）", where="expert_id")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已存在", where="username")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
        entity_id=entity_id if role == "applicant" else None,
        expert_id=expert_id if role == "expert" else None,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password, which must meet the rule; the caller revokes their tokens if it should."""
    check_password_rule(password, username=user.username)
    user.password_hash = hash_password(password)


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username``, active or not, or None."""
    return session.scalar(select(User).where(User.username == username))


def password_matches(user: User | None, password: str) -> bool:
    """Whether ``user`` is active and ``password`` is theirs: always exactly one scrypt verification.

    For no user or an inactive one the password is verified against a dummy hash and refused, so the
    answer takes as long as for a wrong password and its time does not tell which usernames exist.
    """
    if user is None or not user.active:
        verify_password(password, _DUMMY_HASH)
        return False
    return verify_password(password, user.password_hash)


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (the caller says only "wrong")."""
    user = find_user(session, username)
    return user if password_matches(user, password) else None  # always one scrypt, whoever the user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, user: User, hours: int = 12) -> str:
    """A new bearer token for ``user``; only its hash is stored, the secret is returned once."""
    secret = secrets.token_urlsafe(32)
    session.add(Token(user_id=user.id, token_hash=_digest(secret), expires_at=utcnow() + dt.timedelta(hours=hours)))
    session.flush()
    return secret


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, else None."""
    found = session.execute(
        select(User, Token.revoked, Token.expires_at)
        .join(Token, Token.user_id == User.id)
        .where(Token.token_hash == _digest(token))
    ).first()  # one query on every authenticated request
    if found is None:
        return None
    user, revoked, expires_at = found
    if revoked or as_utc(expires_at) <= utcnow() or not user.active:
        return None
    return user


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    if row is None:
        raise NotFound("令牌不存在或已失效")
    row.revoked = True
